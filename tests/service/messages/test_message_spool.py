"""The message log loses nothing while its database is down: a full queue, an outage longer
than the old retry budget, ``close`` during an outage, a crash between replay and delete, a
refused entry, a disk that refuses the spool too.

The outages are real: another connection holds SQLite's write lock (``BEGIN EXCLUSIVE``),
so the writer meets the same ``OperationalError: database is locked`` a busy or stuck
database gives it; nothing of the writer or the store is mocked.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from service.database import Database, DatabaseTimeouts
from service.messages.message_entry import MessageEntry
from service.messages.message_log_store import MessageFilter, MessageLogStore
from service.messages.message_log_writer import MessageLogWriter
from service.messages.message_spool import MessageSpool, entry_from_line, entry_line
from tests.service.messages.conftest import entry

#: The writer used to give up after ~1.7 s of retries and drop the batch.
OLD_RETRY_BUDGET_S = 1.7


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "triage.db"


@pytest.fixture
def database(db_path: Path) -> Iterator[Database]:
    """A migrated SQLite file whose busy timeout is short, so a locked database fails fast."""
    db = Database(f"sqlite:///{db_path.as_posix()}", timeouts=DatabaseTimeouts(statement_s=0.2))
    db.migrate()
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "var" / "message-log-spool"


@contextmanager
def database_down(db_path: Path) -> Iterator[None]:
    """Another connection holds the write lock: every write fails with 'database is locked'."""
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("COMMIT")
        holder.close()


def writer_for(database: Database, spool_dir: Path, **options: float) -> MessageLogWriter:
    """A writer with a fast retry schedule (the service's is 0.2 s doubling up to 30 s)."""
    return MessageLogWriter(
        MessageLogStore(database),
        spool=MessageSpool(spool_dir),
        retention=None,
        retry_initial_s=0.05,
        retry_max_s=0.2,
        **options,  # type: ignore[arg-type]
    )


def stored_ids(database: Database) -> list[str]:
    page = MessageLogStore(database).page(MessageFilter(), limit=10_000)
    return [e.id for e in page.items]


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def spooled_lines(spool_dir: Path) -> int:
    return sum(len(p.read_text("utf-8").splitlines()) for p in MessageSpool(spool_dir).segments())


def test_a_spool_line_holds_every_field_of_an_entry() -> None:
    vector = np.linspace(-1, 1, 384, dtype=np.float32).astype(np.float16)
    original = entry(
        7,
        at=datetime(2026, 11, 30, 12, 7, 1, 123456, tzinfo=UTC),
        text="Wo ist meine Bestellung? \u2013 \u00fc \U0001f600\nzweite Zeile",
        detail={"triage": {"intent": {"label": "track_order"}}, "drafts": [{"id": "d1"}]},
        embedding=vector.tobytes(),
        embedding_dim=384,
        suggestion_id="s1",
        needs_agent=True,
        channel="email",
        subject="order",
    )
    line = entry_line(original)
    assert "\n" not in line
    assert entry_from_line(line) == original


def test_a_full_queue_spools_and_a_replay_stores_each_entry_once(
    database: Database, spool_dir: Path
) -> None:
    writer = writer_for(database, spool_dir, max_queue=2)
    for i in range(50):  # not started: nothing drains the queue
        writer.record([entry(i)])
    assert (writer.pending, writer.spooled, writer.dropped) == (2, 48, 0)
    assert spooled_lines(spool_dir) == 48
    writer.start()
    try:
        assert writer.flush(10.0)
        assert wait_for(lambda: writer.replayed == 48)
    finally:
        writer.close()
    assert sorted(stored_ids(database)) == sorted(f"m{i}" for i in range(50))
    assert MessageSpool(spool_dir).segments() == []
    # A later start finds nothing more to replay.
    again = writer_for(database, spool_dir).start()
    again.close()
    assert again.replayed == 0 and len(stored_ids(database)) == 50


def test_an_outage_longer_than_the_old_retry_budget_loses_nothing(
    database: Database, db_path: Path, spool_dir: Path
) -> None:
    writer = writer_for(database, spool_dir, max_queue=10).start()
    try:
        with database_down(db_path):
            writer.record([entry(i) for i in range(10)])
            time.sleep(0.5)  # the writer takes them as a batch and waits on the database
            writer.record([entry(i) for i in range(10, 40)])  # 10 fit the queue, 20 spool
            time.sleep(OLD_RETRY_BUDGET_S + 1.5)
            assert stored_ids(database) == []
            assert writer.pending > 0 and writer.dropped == 0
        assert writer.flush(10.0)
        assert wait_for(lambda: len(stored_ids(database)) == 40)
    finally:
        writer.close()
    assert sorted(stored_ids(database)) == sorted(f"m{i}" for i in range(40))
    counts = writer.counts()
    assert counts["spooled"] > 0 and counts["replayed"] == counts["spooled"]
    assert (counts["dropped"], counts["rejected"], counts["pending"]) == (0, 0, 0)
    assert MessageSpool(spool_dir).segments() == []


def test_close_during_an_outage_spools_and_the_next_start_replays(
    database: Database, db_path: Path, spool_dir: Path
) -> None:
    writer = writer_for(database, spool_dir, batch_size=4).start()
    with database_down(db_path):
        writer.record([entry(i) for i in range(30)])
        time.sleep(0.3)
        started = time.monotonic()
        writer.close(timeout_s=5.0)
        # One failed attempt, then the rest is spooled without trying again per batch.
        assert time.monotonic() - started < 3.0
    assert (writer.pending, writer.spooled, writer.dropped) == (0, 30, 0)
    assert spooled_lines(spool_dir) == 30
    assert stored_ids(database) == []

    after_restart = writer_for(database, spool_dir).start()
    try:
        assert wait_for(lambda: after_restart.replayed == 30)
    finally:
        after_restart.close()
    assert sorted(stored_ids(database)) == sorted(f"m{i}" for i in range(30))
    assert MessageSpool(spool_dir).segments() == []


def test_a_replay_after_a_crash_between_commit_and_delete_adds_no_duplicates(
    database: Database, spool_dir: Path
) -> None:
    entries = [entry(i) for i in range(20)]
    crashed = MessageSpool(spool_dir)
    crashed.append(entries)
    crashed.close()  # the process died: its lock on the segment is gone
    MessageLogStore(database).write(entries[:12])  # the replay had committed these rows
    writer = writer_for(database, spool_dir).start()
    try:
        assert wait_for(lambda: writer.replayed == 20)
    finally:
        writer.close()
    ids = stored_ids(database)
    assert len(ids) == len(set(ids)) == 20
    assert (writer.rejected, writer.dropped) == (0, 0)
    assert MessageSpool(spool_dir).segments() == []


def test_a_refused_entry_lands_in_the_dead_letter_file(database: Database, spool_dir: Path) -> None:
    writer = writer_for(database, spool_dir).start()
    refused = entry(2, source=None)  # source is NOT NULL
    try:
        writer.record([entry(1), refused, entry(3)])
        assert writer.flush(10.0)
    finally:
        writer.close()
    assert sorted(stored_ids(database)) == ["m1", "m3"]
    assert (writer.rejected, writer.dropped) == (1, 0)
    lines = (spool_dir / "rejected.jsonl").read_text("utf-8").splitlines()
    assert [entry_from_line(line) for line in lines] == [refused]


def test_a_refused_entry_in_the_spool_is_dead_lettered_and_the_rest_replayed(
    database: Database, spool_dir: Path
) -> None:
    spool = MessageSpool(spool_dir)
    spool.append([entry(1), entry(2, source=None), entry(3)])
    spool.close()
    writer = writer_for(database, spool_dir).start()
    try:
        assert wait_for(lambda: writer.replayed == 2 and writer.rejected == 1)
    finally:
        writer.close()
    assert sorted(stored_ids(database)) == ["m1", "m3"]
    assert MessageSpool(spool_dir).segments() == []
    assert len((spool_dir / "rejected.jsonl").read_text("utf-8").splitlines()) == 1


def test_entries_the_disk_refuses_too_count_as_dropped(database: Database, spool_dir: Path) -> None:
    writer = writer_for(database, spool_dir, max_queue=1)
    spool_dir.rmdir()
    spool_dir.write_text("not a directory")  # every append now fails with an OSError
    writer.record([entry(1), entry(2), entry(3)])
    assert (writer.pending, writer.spooled, writer.dropped) == (1, 0, 2)


def test_a_segment_another_process_still_writes_is_not_replayed(spool_dir: Path) -> None:
    writing = MessageSpool(spool_dir)  # a second worker process, in effect: its own flock
    writing.append([entry(1)])
    replaying = MessageSpool(spool_dir)
    delivered: list[MessageEntry] = []

    def deliver(entries: list[MessageEntry]) -> bool:
        delivered.extend(entries)
        return True

    assert replaying.drain(deliver, chunk=10)
    assert delivered == [] and len(replaying.segments()) == 1
    writing.append([entry(2)])
    writing.close()
    assert replaying.drain(deliver, chunk=1)
    assert [e.id for e in delivered] == ["m1", "m2"]
    assert replaying.segments() == []


def test_a_torn_last_line_is_skipped_and_counted(spool_dir: Path) -> None:
    spool = MessageSpool(spool_dir)
    spool.append([entry(1)])
    spool.close()
    [segment] = spool.segments()
    with segment.open("a", encoding="utf-8") as handle:
        handle.write(entry_line(entry(2))[:40])  # the process died mid-write
    delivered: list[MessageEntry] = []

    def deliver(entries: list[MessageEntry]) -> bool:
        delivered.extend(entries)
        return True

    assert spool.drain(deliver, chunk=10)
    assert [e.id for e in delivered] == ["m1"]
    assert spool.unreadable == 1 and spool.segments() == []


def test_a_replay_that_cannot_store_keeps_the_segment(spool_dir: Path) -> None:
    spool = MessageSpool(spool_dir)
    spool.append([entry(i) for i in range(5)])
    spool.close()
    calls = threading.Event()

    def database_still_down(entries: list[MessageEntry]) -> bool:
        calls.set()
        return False

    assert not spool.drain(database_still_down, chunk=2)
    assert calls.is_set() and len(spool.segments()) == 1


def test_close_before_start_spools_what_is_queued(database: Database, spool_dir: Path) -> None:
    writer = writer_for(database, spool_dir)
    writer.record([entry(1), entry(2)])
    writer.close()
    assert (writer.pending, writer.spooled) == (0, 2)
    assert spooled_lines(spool_dir) == 2
