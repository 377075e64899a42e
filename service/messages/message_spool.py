"""The message log's spool on local disk: entries the database could not take yet, and the
dead letters it refused.

A short database outage used to lose log entries (the queue filled, retries ran out, ``close``
gave up), and the log is what agents page through, what insights cluster and what draft
feedback refers to. Entries the writer cannot store now are appended here as JSON lines (one
entry a line, every append flushed and fsync'd before it returns) and replayed into the table
when the database answers again. Texts in entries are already redacted (``message_entry.py``),
so the spool holds nothing the table would not.

Layout of the directory (``<data_dir>/message-log-spool/`` by default):

- ``<ns>-<pid>.jsonl`` segments, named so that sorting them sorts them by creation time. A
  process appends only to its own active segment and holds an exclusive ``flock`` on it while
  it does, so another worker process (``triage serve --workers N``) never replays a segment
  that is still growing. Replay takes the same lock, stores the entries and deletes the file
  only after they are committed; storing skips ids already present, so a crash between commit
  and delete cannot duplicate rows.
- ``rejected.jsonl``: entries the database refused (not a transient failure), in the same
  format, for an operator to inspect and, once the cause is fixed, move into a segment.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from service.messages.message_entry import MessageEntry

logger = logging.getLogger(__name__)

#: Name of the spool directory under the service data directory.
SPOOL_DIRNAME = "message-log-spool"
#: The dead-letter file inside the spool directory.
REJECTED_FILENAME = "rejected.jsonl"
_SEGMENT_SUFFIX = ".jsonl"


def entry_line(entry: MessageEntry) -> str:
    """One entry as one JSON line (no newline): datetime as ISO 8601, embedding as base64."""
    return json.dumps(
        {
            "id": entry.id,
            "created_at": entry.created_at.isoformat(),
            "source": entry.source,
            "text": entry.text,
            "intent": entry.intent,
            "confidence": entry.confidence,
            "out_of_scope": entry.out_of_scope,
            "model_version": entry.model_version,
            "detail": entry.detail,
            "channel": entry.channel,
            "subject": entry.subject,
            "urgency": entry.urgency,
            "queue": entry.queue,
            "priority": entry.priority,
            "action": entry.action,
            "needs_agent": entry.needs_agent,
            "suggestion_id": entry.suggestion_id,
            "conversation_id": entry.conversation_id,
            "embedding": (
                base64.b64encode(entry.embedding).decode("ascii")
                if entry.embedding is not None
                else None
            ),
            "embedding_dim": entry.embedding_dim,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def entry_from_line(line: str) -> MessageEntry:
    """The entry an ``entry_line`` holds (raises ``ValueError``/``KeyError``/``TypeError`` on
    a line that is not one)."""
    values: dict[str, Any] = json.loads(line)
    values["created_at"] = datetime.fromisoformat(values["created_at"])
    embedding = values.get("embedding")
    values["embedding"] = base64.b64decode(embedding) if embedding is not None else None
    return MessageEntry(**values)


def _fsync_directory(directory: Path) -> None:
    """Make a file's creation or removal itself durable (the entry in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append_durably(handle: IO[bytes], entries: Sequence[MessageEntry]) -> None:
    handle.write("".join(entry_line(e) + "\n" for e in entries).encode("utf-8"))
    handle.flush()
    os.fsync(handle.fileno())


class MessageSpool:
    """Append-only JSON-lines segments of unstored log entries, and the dead-letter file.

    Thread-safe within a process, and safe with several processes sharing the directory
    (see the module docstring).

    Args:
        directory: where the segments live; created if missing.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.rejected_path = directory / REJECTED_FILENAME
        self._lock = threading.Lock()
        self._active: IO[bytes] | None = None
        #: Lines of segments that could not be read back (a torn last line after a crash).
        self.unreadable = 0

    # -- appending ---------------------------------------------------------------------
    def append(self, entries: Sequence[MessageEntry]) -> None:
        """Append entries to this process's active segment, fsync'd before returning.

        Raises:
            OSError: the disk refused (full, read-only); nothing is promised then.
        """
        if not entries:
            return
        with self._lock:
            try:
                if self._active is None:
                    self._active = self._open_segment()
                _append_durably(self._active, entries)
            except OSError:
                # A partly written line may end the segment: start a fresh one next time,
                # so the torn line stays the last line of its file.
                self._seal_locked()
                raise

    def reject(self, entries: Sequence[MessageEntry]) -> None:
        """Append entries the database refused to the dead-letter file, fsync'd.

        Raises:
            OSError: the disk refused.
        """
        with self.rejected_path.open("ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                _append_durably(handle, entries)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def seal(self) -> None:
        """Close the active segment, so that replay (in any process) may take it."""
        with self._lock:
            self._seal_locked()

    def _open_segment(self) -> IO[bytes]:
        path = self.directory / f"{time.time_ns():020d}-{os.getpid()}{_SEGMENT_SUFFIX}"
        handle = path.open("xb")
        fcntl.flock(handle, fcntl.LOCK_EX)  # ours while it grows: replay skips it
        _fsync_directory(self.directory)
        return handle

    def _seal_locked(self) -> None:
        if self._active is not None:
            try:
                self._active.close()  # releases the flock
            except OSError as exc:
                logger.warning("message log spool: closing a segment failed: %s", exc)
            self._active = None

    # -- reading back ------------------------------------------------------------------
    def segments(self) -> list[Path]:
        """Segment files, oldest first (the dead-letter file excluded)."""
        return sorted(
            p for p in self.directory.glob(f"*{_SEGMENT_SUFFIX}") if p.name != REJECTED_FILENAME
        )

    def backlog_bytes(self) -> int:
        """Size of the segments waiting for replay (every process's), in bytes."""
        total = 0
        for path in self.segments():
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue  # replayed meanwhile
        return total

    def drain(self, deliver: Callable[[list[MessageEntry]], bool], *, chunk: int) -> bool:
        """Hand spooled entries to ``deliver`` in order, ``chunk`` at a time, deleting each
        segment once every chunk of it was delivered.

        ``deliver`` returns ``False`` when it could not store a chunk (the database is still
        down): the drain stops there and the segment stays, to be delivered again later
        (``deliver`` must therefore skip entries already stored). Segments another process
        holds (growing, or being replayed) are left to it.

        Returns:
            ``True`` when every segment this call could take was delivered.
        """
        self.seal()
        # Stops at the first segment not delivered: the later ones wait their turn.
        return all(self._drain_segment(p, deliver, chunk=chunk) for p in self.segments())

    def _drain_segment(
        self, path: Path, deliver: Callable[[list[MessageEntry]], bool], *, chunk: int
    ) -> bool:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return True  # another process replayed it
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True  # another process appends to it or replays it
            try:
                if os.fstat(handle.fileno()).st_ino != path.stat().st_ino:
                    return True  # replayed and deleted while we waited
            except FileNotFoundError:
                return True
            # Streamed chunk by chunk: a long outage can leave a segment of many megabytes.
            delivered = 0
            torn: list[int] = []
            batch: list[MessageEntry] = []
            for entry in self._read(handle, path, torn):
                batch.append(entry)
                if len(batch) == chunk:
                    if not deliver(batch):
                        return False
                    delivered += len(batch)
                    batch = []
            if batch and not deliver(batch):
                return False
            delivered += len(batch)
            path.unlink()
            _fsync_directory(self.directory)
            self.unreadable += len(torn)  # counted once, when the segment is gone
            logger.info("message log spool: replayed %s entries from %s", delivered, path.name)
        return True

    def _read(self, handle: IO[bytes], path: Path, torn: list[int]) -> Iterable[MessageEntry]:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield entry_from_line(raw.decode("utf-8"))
            except (ValueError, KeyError, TypeError) as exc:
                torn.append(number)
                logger.error(
                    "message log spool: line %s of %s is unreadable (%s); skipped",
                    number,
                    path.name,
                    type(exc).__name__,
                )

    def close(self) -> None:
        """Seal the active segment (the next start, or another process, replays it)."""
        self.seal()
