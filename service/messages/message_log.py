"""The message log as the service uses it: queue entries for the background writer, read
the queue back (after the entries already handed over are stored), and retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from service.database import Database
from service.messages.message_entry import MessageEntry
from service.messages.message_log_store import MessageFilter, MessageLogStore, MessagePage
from service.messages.message_log_writer import MessageLogWriter
from service.messages.message_spool import MessageSpool

#: How long a read waits for entries handed over just before it (read-your-writes for
#: the agent who pasted a message and opens the queue).
READ_FLUSH_WAIT_S = 2.0


class MessageLog:
    """Writes through the background writer, reads from the store.

    Args:
        database: the migrated service database.
        spool_dir: where entries wait on disk while the database is down
            (``<data_dir>/message-log-spool``), and the dead-letter file.
        retention_days: keep messages this many days (``None``: forever).
        max_queue: most entries waiting for the writer in memory.
    """

    def __init__(
        self,
        database: Database,
        *,
        spool_dir: Path,
        retention_days: int | None,
        max_queue: int = 10_000,
    ) -> None:
        self.store = MessageLogStore(database)
        self.writer = MessageLogWriter(
            self.store,
            spool=MessageSpool(spool_dir),
            retention=timedelta(days=retention_days) if retention_days is not None else None,
            max_queue=max_queue,
        )

    def start(self) -> MessageLog:
        """Start the background writer."""
        self.writer.start()
        return self

    def record(self, entries: Sequence[MessageEntry]) -> None:
        """Hand entries to the writer; returns at once."""
        self.writer.record(entries)

    def page(self, filters: MessageFilter, *, limit: int = 50, offset: int = 0) -> MessagePage:
        """Messages matching ``filters``, newest first."""
        self.writer.flush(READ_FLUSH_WAIT_S)
        return self.store.page(filters, limit=limit, offset=offset)

    def get(self, message_id: str) -> MessageEntry:
        """One logged message (raises ``NotFoundError``)."""
        self.writer.flush(READ_FLUSH_WAIT_S)
        return self.store.get(message_id)

    def counts(self) -> dict[str, int]:
        """The writer's counts (``MessageLogWriter.counts``) and the spool's backlog in bytes
        (every process's), for the metrics."""
        return {**self.writer.counts(), "spool_bytes": self.writer.spool.backlog_bytes()}

    def close(self) -> None:
        """Store what is queued (spool it if the database is down), then stop the writer."""
        self.writer.close()
