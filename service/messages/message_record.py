"""Storage row of the message log (schema: migration ``0005``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base, UtcDateTime


class MessageRecord(Base):
    """One triaged message. The columns are what the queue filters and the statistics
    group on; everything shown but never filtered lives in ``detail`` (JSON)."""

    __tablename__ = "message_log"
    __table_args__ = (
        Index("ix_message_log_created_at", "created_at"),
        Index("ix_message_log_queue_created_at", "queue", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    out_of_scope: Mapped[bool] = mapped_column(Boolean)
    urgency: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str | None] = mapped_column(String(16))
    needs_agent: Mapped[bool | None] = mapped_column(Boolean)
    suggestion_id: Mapped[str | None] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_dim: Mapped[int | None] = mapped_column(Integer)
