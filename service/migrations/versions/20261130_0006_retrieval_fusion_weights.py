"""knowledge base: the collection's fusion weights, with who set them, when and on what

Revision ID: 0006_retrieval_fusion_weights
Revises: 0005_message_log
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_retrieval_fusion_weights"
down_revision: str | None = "0005_message_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``kb_fusion`` (empty: until a row exists every worker uses the defaults)."""
    op.create_table(
        "kb_fusion",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("fusion", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("queries", sa.JSON(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("baseline", sa.String(16), nullable=True),
        sa.Column("encoder", sa.String(300), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_fusion")),
    )
    op.create_index("ix_kb_fusion_version", "kb_fusion", ["version"])


def downgrade() -> None:
    """Drop ``kb_fusion``."""
    op.drop_index("ix_kb_fusion_version", table_name="kb_fusion")
    op.drop_table("kb_fusion")
