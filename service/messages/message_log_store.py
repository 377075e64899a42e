"""Reads and writes of the message log table: insert batches, the filtered queue, one
message, time buckets and cited articles for the dashboard, and retention."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from models.errors import NotFoundError, UnavailableError
from service.database import Database
from service.messages.message_entry import MessageEntry
from service.messages.message_record import MessageRecord

logger = logging.getLogger(__name__)

#: Width of one dashboard time bucket.
BucketSize = Literal["hour", "day"]


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
class EmbeddedMessage:
    """A logged message as clustering reads it (emerging issues, knowledge-base gaps)."""

    id: str
    at: datetime
    text: str
    intent: str | None
    embedding: npt.NDArray[np.float32]
    needs_agent: bool | None = None


@dataclass(frozen=True)
class CitedArticle:
    """A knowledge-base article and how many logged messages got a draft citing it."""

    doc_id: str
    title: str
    count: int


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
    def write(self, entries: Sequence[MessageEntry], *, skip_existing: bool = False) -> None:
        """Insert entries in one transaction (raises ``SQLAlchemyError`` on failure; the
        writer decides whether to retry).

        Args:
            entries: the rows to insert.
            skip_existing: an entry whose id is stored already is left out instead of
                failing the transaction. The writer stores this way, so a batch retried
                after a commit whose answer was lost, or a spool replayed again after a
                crash between commit and delete, never duplicates or rejects a row.
        """
        if not entries:
            return
        names = [f.name for f in fields(MessageEntry)]
        # One executemany of plain rows: the ORM's per-object bookkeeping (and asdict's deep
        # copies) cost more than the insert itself.
        rows = [{name: getattr(e, name) for name in names} for e in entries]
        with self.database.session() as session, session.begin():
            if not skip_existing:
                session.execute(insert(MessageRecord), rows)
                return
            dialect = self.database.dialect
            if dialect in ("sqlite", "postgresql"):
                upsert = sqlite_insert if dialect == "sqlite" else postgresql_insert
                statement = upsert(MessageRecord).on_conflict_do_nothing(index_elements=["id"])
                session.execute(statement, rows)
                return
            stored = set(
                session.scalars(
                    select(MessageRecord.id).where(MessageRecord.id.in_([r["id"] for r in rows]))
                )
            )
            fresh: dict[str, dict[str, Any]] = {}
            for row in rows:
                if row["id"] not in stored:
                    fresh.setdefault(row["id"], row)
            if fresh:
                session.execute(insert(MessageRecord), list(fresh.values()))

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
        """Message counts per time bucket by intent and urgency, oldest bucket first.

        The database groups (one row per bucket and intent, and per bucket and urgency),
        so a long window costs a scan of the index, not a row per message in Python.
        """
        filters = MessageFilter(since=since, until=until)
        start = self._bucket_expression(bucket)
        intents: dict[datetime, Counter[str]] = {}
        levels: dict[datetime, Counter[str]] = {}
        try:
            with self.database.session() as session:
                for column, into, missing in (
                    (MessageRecord.intent, intents, "out_of_scope"),
                    (MessageRecord.urgency, levels, "unknown"),
                ):
                    rows = session.execute(
                        select(start, column, func.count())
                        .where(*filters.conditions())
                        .group_by(start, column)
                    )
                    for moment, key, count in rows:
                        into.setdefault(_bucket_value(moment), Counter())[key or missing] += count
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("the message log could not be read; retry") from exc
        return [
            VolumeBucket(
                start=moment,
                messages=sum(counts.values()),
                intents=dict(counts),
                urgency=dict(levels.get(moment, Counter())),
            )
            for moment, counts in sorted(intents.items())
        ]

    def _bucket_expression(self, bucket: BucketSize) -> Any:
        """SQL for the start of a row's bucket, in UTC."""
        if self.database.dialect == "postgresql":
            return func.date_trunc(bucket, func.timezone("UTC", MessageRecord.created_at))
        if self.database.dialect == "sqlite":
            # Stored as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
            pattern = "%Y-%m-%d %H:00:00" if bucket == "hour" else "%Y-%m-%d 00:00:00"
            return func.strftime(pattern, MessageRecord.created_at)
        raise MessageLogUnavailableError(
            f"time buckets are not implemented for the {self.database.dialect} database"
        )

    def embedded(
        self, *, since: datetime | None, until: datetime | None, batch: int = 1_000
    ) -> Iterator[EmbeddedMessage]:
        """Messages of ``[since, until)`` that have an embedding, oldest first, read in
        batches (a generator), the float16 vectors widened back to float32."""
        filters = MessageFilter(since=since, until=until)
        query = (
            select(
                MessageRecord.id,
                MessageRecord.created_at,
                MessageRecord.text,
                MessageRecord.intent,
                MessageRecord.embedding,
                MessageRecord.needs_agent,
            )
            .where(MessageRecord.embedding.is_not(None), *filters.conditions())
            .order_by(MessageRecord.created_at, MessageRecord.id)
            .execution_options(yield_per=batch)
        )
        with self.database.session() as session:
            for row in session.execute(query):
                vector = np.frombuffer(row.embedding, dtype=np.float16).astype(np.float32)
                yield EmbeddedMessage(
                    id=row.id,
                    at=row.created_at,
                    text=row.text,
                    intent=row.intent,
                    embedding=vector,
                    needs_agent=row.needs_agent,
                )

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


def _bucket_value(value: datetime | str) -> datetime:
    """A bucket start as the database returned it (text on SQLite), aware and in UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _drafts(detail: Any) -> list[dict[str, Any]]:
    drafts = detail.get("drafts") if isinstance(detail, dict) else None
    return [d for d in drafts if isinstance(d, dict)] if isinstance(drafts, list) else []
