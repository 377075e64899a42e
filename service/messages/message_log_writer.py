"""Background writer of the message log: requests hand entries over and return at once.

A single daemon thread drains a bounded queue in batches (one transaction per batch), retries
a failing database a few times, and applies the retention setting once at start and then
hourly. When the database stays down and the queue fills, new entries are dropped and
counted (``dropped``) rather than slowing or failing customer requests: the log is an
analytics record, the answer to the customer is not held hostage to it.

After the first entry of a batch the writer lingers up to ``linger_s`` (50 ms) for more: a
transaction costs about 0.3 ms of CPU for one row and 0.05 ms per row for twenty, and at a
hundred requests a second one-row transactions took as much CPU as the intent heads. A
``flush`` (a reader who wants to see its rows) or ``close`` cuts the wait short.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from service.messages.message_entry import MessageEntry
from service.messages.message_log_store import MessageLogStore

logger = logging.getLogger(__name__)

_RETRY_DELAYS_S = (0.2, 0.5, 1.0)


def _transient(exc: DBAPIError) -> bool:
    """A database that is down or busy (worth retrying), not one refusing the data."""
    return type(exc).__name__ in {"OperationalError", "InterfaceError"}


class MessageLogWriter:
    """Stores log entries off the request path.

    Args:
        store: the table the entries go to.
        retention: messages older than this are deleted; ``None`` keeps them forever.
        max_queue: most entries waiting for storage; beyond it new ones are dropped.
        batch_size: most entries per transaction.
        purge_interval_s: how often retention runs while the service is up.
        linger_s: how long a batch waits for more entries after its first.
    """

    def __init__(
        self,
        store: MessageLogStore,
        *,
        retention: timedelta | None,
        max_queue: int = 10_000,
        batch_size: int = 256,
        purge_interval_s: float = 3600.0,
        linger_s: float = 0.05,
    ) -> None:
        if max_queue < 1 or batch_size < 1:
            raise ValueError("max_queue and batch_size must be at least 1")
        if linger_s < 0:
            raise ValueError("linger_s must not be negative")
        self.linger_s = linger_s
        self._hurry = threading.Event()  # a flush or close is waiting: stop lingering
        self.store = store
        self.retention = retention
        self.batch_size = batch_size
        self.purge_interval_s = purge_interval_s
        self._queue: queue.Queue[MessageEntry] = queue.Queue(maxsize=max_queue)
        self._done = threading.Condition()
        self._submitted = 0
        self._finished = 0
        self.dropped = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = float("-inf")

    def start(self) -> MessageLogWriter:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="message-log-writer", daemon=True
            )
            self._thread.start()
        return self

    # -- request side ------------------------------------------------------------------
    def record(self, entries: Sequence[MessageEntry]) -> None:
        """Queue entries for storage; never blocks."""
        for entry in entries:
            try:
                self._queue.put_nowait(entry)
            except queue.Full:
                with self._done:
                    self.dropped += 1
                logger.warning("message log queue full: an entry was dropped")
                continue
            with self._done:
                self._submitted += 1

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every entry queued so far is stored (or given up); ``False`` on timeout."""
        with self._done:
            target = self._submitted
            if self._finished >= target:
                return True
            self._hurry.set()
            return self._done.wait_for(lambda: self._finished >= target, timeout=timeout_s)

    @property
    def pending(self) -> int:
        """Entries queued and not yet stored."""
        with self._done:
            return self._submitted - self._finished

    def close(self, timeout_s: float = 10.0) -> None:
        """Store what is queued (up to ``timeout_s``), then stop the thread."""
        if self._thread is None:
            return
        self._stop.set()
        self.flush(timeout_s)
        self._thread.join(timeout_s)
        self._thread = None

    # -- writer thread -----------------------------------------------------------------
    def purge_expired(self, *, now: datetime | None = None) -> int:
        """Apply the retention setting now; returns how many messages were deleted."""
        if self.retention is None:
            return 0
        removed = self.store.purge(before=(now or datetime.now(UTC)) - self.retention)
        if removed:
            logger.info("message log retention removed %s messages", removed)
        return removed

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            self._maybe_purge()
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.linger_s
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except queue.Empty:
                    pass
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._hurry.is_set() or self._stop.is_set():
                    break
                try:
                    # Short waits, so a flush arriving meanwhile is not kept waiting.
                    batch.append(self._queue.get(timeout=min(remaining, 0.01)))
                except queue.Empty:
                    continue
            self._write(batch)
            if self._queue.empty():
                self._hurry.clear()
            with self._done:
                self._finished += len(batch)
                self._done.notify_all()

    def _write(self, batch: list[MessageEntry]) -> None:
        """One transaction per batch; a database that is down is retried, an entry the
        database refuses is dropped alone (the rest of its batch is stored one by one)."""
        for attempt, delay in enumerate((0.0, *_RETRY_DELAYS_S)):
            if delay:
                time.sleep(delay)
            try:
                self.store.write(batch)
                return
            except DBAPIError as exc:
                if not exc.connection_invalidated and not _transient(exc):
                    break
                logger.warning(
                    "message log write failed (attempt %s): %s", attempt + 1, type(exc).__name__
                )
            except SQLAlchemyError:
                break
        else:
            self._drop(len(batch))
            return
        for entry in batch:
            try:
                self.store.write([entry])
            except SQLAlchemyError as exc:
                logger.error("message log refused an entry: %s", type(exc).__name__)
                self._drop(1)

    def _drop(self, count: int) -> None:
        with self._done:
            self.dropped += count
        logger.error("message log: %s entries could not be stored and were dropped", count)

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < self.purge_interval_s:
            return
        self._last_purge = now
        try:
            self.purge_expired()
        except SQLAlchemyError as exc:
            logger.warning("message log retention failed: %s", type(exc).__name__)
