"""Storage rows of suggestions, respond decisions and agent feedback (schema: migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base, UtcDateTime

#: What an agent did with a suggestion.
Outcome = Literal["accepted", "edited", "rejected"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


class SuggestionRecord(Base):
    """Drafts offered for one message, with what they were built from."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))
    urgency: Mapped[str | None] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(200))
    index_version: Mapped[str] = mapped_column(String(200))
    generator: Mapped[str] = mapped_column(String(200))
    fallback_reason: Mapped[str | None] = mapped_column(String(64))
    needs_agent: Mapped[bool] = mapped_column(Boolean)
    relevance: Mapped[float] = mapped_column(Float)
    doc_ids: Mapped[list[str]] = mapped_column(JSON)
    drafts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class DecisionRecord(Base):
    """One ``/v1/respond`` decision, for the statistics."""

    __tablename__ = "respond_decisions"
    __table_args__ = (Index("ix_respond_decisions_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    urgency: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    suggestion_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("suggestions.id", ondelete="SET NULL")
    )


class FeedbackRecord(Base):
    """What the agent did with a suggestion. ``target_id`` is the id the agent sent (a draft
    id or the suggestion id); one row per (target_id, outcome) makes retries idempotent."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("target_id", "outcome", name="uq_feedback_target_id_outcome"),
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")", name="outcome"
        ),
        Index("ix_feedback_created_at", "created_at"),
        Index("ix_feedback_suggestion_id", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    suggestion_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("suggestions.id", ondelete="CASCADE")
    )
    target_id: Mapped[str] = mapped_column(String(40))
    draft_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(16))
    final_text: Mapped[str | None] = mapped_column(Text)
    correct_intent: Mapped[str | None] = mapped_column(String(64))
    correct_urgency: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(128))
    edit_distance: Mapped[float | None] = mapped_column(Float)
