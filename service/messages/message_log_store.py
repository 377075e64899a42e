"""Reads and writes of the message log table: insert batches, the filtered queue, one
message, time buckets and cited articles for the dashboard, and retention."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from models.errors import NotFoundError, UnavailableError
from service.database import Database
from service.messages.message_entry import MessageEntry
from service.messages.message_record import MessageRecord

logger = logging.getLogger(__name__)

#: Width of one dashboard time bucket.
BucketSize = Literal["hour", "day"]
_BUCKET = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


class MessageLogUnavailableError(UnavailableError):
    """The message log could not be read (the caller may retry)."""

    code = "message_log_unavailable"


@dataclass(frozen=True)
class MessageFilter:
    """Which messages a queue view shows; ``None`` means any."""

    queue: str | None = None
    urgency: str | None = None
    action: str | None = None
    needs_agent: bool | None = None
    intent: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on ``MessageRecord``."""
        out: list[ColumnElement[bool]] = []
        for name in ("queue", "urgency", "action", "needs_agent", "intent", "source"):
            value = getattr(self, name)
            if value is not None:
                out.append(getattr(MessageRecord, name) == value)
        if self.since is not None:
            out.append(MessageRecord.created_at >= self.since)
        if self.until is not None:
            out.append(MessageRecord.created_at < self.until)
        return out


@dataclass(frozen=True)
class MessagePage:
    """One page of the queue, newest first; ``next_offset`` is ``None`` on the last page."""

    items: tuple[MessageEntry, ...]
    total: int
    offset: int
    next_offset: int | None


@dataclass(frozen=True)
class VolumeBucket:
    """Messages that arrived in ``[start, start + bucket)``, by intent and by urgency."""

    start: datetime
    messages: int
    intents: dict[str, int] = field(default_factory=dict)
    urgency: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CitedArticle:
    """A knowledge-base article and how many logged messages got a draft citing it."""

    doc_id: str
    title: str
    count: int


def bucket_start(moment: datetime, size: BucketSize) -> datetime:
    """The start (UTC) of the bucket holding ``moment``."""
    moment = moment.astimezone(UTC)
    if size == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _entry(row: MessageRecord) -> MessageEntry:
    return MessageEntry(
        id=row.id,
        created_at=row.created_at,
        source=row.source,
        channel=row.channel,
        subject=row.subject,
        text=row.text,
        intent=row.intent,
        confidence=row.confidence,
        out_of_scope=row.out_of_scope,
        urgency=row.urgency,
        queue=row.queue,
        priority=row.priority,
        action=row.action,
        needs_agent=row.needs_agent,
        suggestion_id=row.suggestion_id,
        conversation_id=row.conversation_id,
        model_version=row.model_version,
        detail=row.detail,
        embedding=row.embedding,
        embedding_dim=row.embedding_dim,
    )


class MessageLogStore:
    """The message log table of one (migrated) database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- writes ------------------------------------------------------------------------
    def write(self, entries: Sequence[MessageEntry]) -> None:
        """Insert entries in one transaction (raises ``SQLAlchemyError`` on failure; the
        writer decides whether to retry)."""
        if not entries:
            return
        names = [f.name for f in fields(MessageEntry)]
        # One executemany of plain rows: the ORM's per-object bookkeeping (and asdict's deep
        # copies) cost more than the insert itself.
        rows = [{name: getattr(e, name) for name in names} for e in entries]
        with self.database.session() as session, session.begin():
            session.execute(insert(MessageRecord), rows)

    def purge(self, *, before: datetime) -> int:
        """Delete messages logged before ``before``; returns how many."""
        with self.database.session() as session, session.begin():
            result = session.execute(delete(MessageRecord).where(MessageRecord.created_at < before))
            return int(getattr(result, "rowcount", 0) or 0)

    # -- reads -------------------------------------------------------------------------
    def page(self, filters: MessageFilter, *, limit: int = 50, offset: int = 0) -> MessagePage:
        """Messages matching ``filters``, newest first."""
        conditions = filters.conditions()
        try:
            with self.database.session() as session:
                total = session.scalar(
                    select(func.count()).select_from(MessageRecord).where(*conditions)
                )
                rows = session.scalars(
                    select(MessageRecord)
                    .where(*conditions)
                    .order_by(MessageRecord.created_at.desc(), MessageRecord.id.desc())
                    .limit(limit)
                    .offset(offset)
                ).all()
                items = tuple(_entry(r) for r in rows)
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("the message log could not be read; retry") from exc
        count = int(total or 0)
        following = offset + len(items)
        return MessagePage(
            items=items,
            total=count,
            offset=offset,
            next_offset=following if following < count else None,
        )

    def get(self, message_id: str) -> MessageEntry:
        """One logged message.

        Raises:
            NotFoundError: no message has that id.
        """
        try:
            with self.database.session() as session:
                row = session.get(MessageRecord, message_id)
                entry = _entry(row) if row is not None else None
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("the message log could not be read; retry") from exc
        if entry is None:
            raise NotFoundError(f"message_id: no logged message with id {message_id!r}")
        return entry

    def volumes(
        self, *, since: datetime | None, until: datetime | None, bucket: BucketSize
    ) -> list[VolumeBucket]:
        """Message counts per time bucket by intent and urgency, oldest bucket first."""
        filters = MessageFilter(since=since, until=until)
        counts: dict[datetime, tuple[Counter[str], Counter[str], list[int]]] = {}
        try:
            with self.database.session() as session:
                rows = session.execute(
                    select(
                        MessageRecord.created_at, MessageRecord.intent, MessageRecord.urgency
                    ).where(*filters.conditions())
                )
                for created_at, intent, urgency in rows:
                    start = bucket_start(created_at, bucket)
                    intents, levels, total = counts.setdefault(start, (Counter(), Counter(), [0]))
                    intents[intent or "out_of_scope"] += 1
                    levels[urgency or "unknown"] += 1
                    total[0] += 1
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("the message log could not be read; retry") from exc
        return [
            VolumeBucket(start=start, messages=total[0], intents=dict(i), urgency=dict(u))
            for start, (i, u, total) in sorted(counts.items())
        ]

    def top_cited(
        self, *, since: datetime | None, until: datetime | None, limit: int = 10
    ) -> list[CitedArticle]:
        """Articles cited by the drafts of the most messages (each message counts once)."""
        filters = MessageFilter(since=since, until=until)
        counts: Counter[str] = Counter()
        titles: dict[str, str] = {}
        try:
            with self.database.session() as session:
                rows = session.scalars(
                    select(MessageRecord.detail).where(
                        MessageRecord.suggestion_id.is_not(None), *filters.conditions()
                    )
                )
                for detail in rows:
                    cited: dict[str, str] = {}
                    for draft in _drafts(detail):
                        for citation in draft.get("citations", []):
                            cited[str(citation["doc_id"])] = str(citation.get("title", ""))
                    counts.update(cited.keys())
                    titles.update(cited)
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("the message log could not be read; retry") from exc
        return [CitedArticle(d, titles.get(d, d), n) for d, n in counts.most_common(limit)]


def _drafts(detail: Any) -> list[dict[str, Any]]:
    drafts = detail.get("drafts") if isinstance(detail, dict) else None
    return [d for d in drafts if isinstance(d, dict)] if isinstance(drafts, list) else []
