"""message log: every triaged message, redacted, with its embedding

Revision ID: 0005_message_log
Revises: 0002_feedback
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_message_log"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``message_log``."""
    op.create_table(
        "message_log",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("out_of_scope", sa.Boolean(), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("priority", sa.String(16), nullable=True),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("needs_agent", sa.Boolean(), nullable=True),
        sa.Column("suggestion_id", sa.String(32), nullable=True),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_dim", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_log")),
    )
    op.create_index("ix_message_log_created_at", "message_log", ["created_at"], unique=False)
    op.create_index(
        "ix_message_log_queue_created_at", "message_log", ["queue", "created_at"], unique=False
    )


def downgrade() -> None:
    """Drop ``message_log``."""
    op.drop_index("ix_message_log_queue_created_at", table_name="message_log")
    op.drop_index("ix_message_log_created_at", table_name="message_log")
    op.drop_table("message_log")
