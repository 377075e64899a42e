"""suggestions, respond decisions and agent feedback

Revision ID: 0002_feedback
Revises: 0001_orders
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_feedback"
down_revision: str | None = "0001_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``suggestions``, ``respond_decisions`` and ``feedback``."""
    op.create_table(
        "suggestions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("index_version", sa.String(200), nullable=False),
        sa.Column("generator", sa.String(200), nullable=False),
        sa.Column("fallback_reason", sa.String(64), nullable=True),
        sa.Column("needs_agent", sa.Boolean(), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=False),
        sa.Column("doc_ids", sa.JSON(), nullable=False),
        sa.Column("drafts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
    )
    op.create_index("ix_suggestions_created_at", "suggestions", ["created_at"], unique=False)
    op.create_table(
        "respond_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("suggestion_id", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_respond_decisions_suggestion_id_suggestions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_respond_decisions")),
    )
    op.create_index(
        "ix_respond_decisions_created_at", "respond_decisions", ["created_at"], unique=False
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("suggestion_id", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(40), nullable=False),
        sa.Column("draft_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("correct_intent", sa.String(64), nullable=True),
        sa.Column("correct_urgency", sa.String(16), nullable=True),
        sa.Column("agent_id", sa.String(128), nullable=True),
        sa.Column("edit_distance", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'edited', 'rejected')", name=op.f("ck_feedback_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_feedback_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("target_id", "outcome", name=op.f("uq_feedback_target_id_outcome")),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"], unique=False)
    op.create_index("ix_feedback_suggestion_id", "feedback", ["suggestion_id"], unique=False)


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_feedback_suggestion_id", table_name="feedback")
    op.drop_index("ix_feedback_created_at", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_respond_decisions_created_at", table_name="respond_decisions")
    op.drop_table("respond_decisions")
    op.drop_index("ix_suggestions_created_at", table_name="suggestions")
    op.drop_table("suggestions")
