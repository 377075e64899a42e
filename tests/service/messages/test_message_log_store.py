"""The message log store and its background writer on real databases (SQLite and the real
PostgreSQL): storage, queue order and filters, retention, and a failing database (the
spool's outage cases: ``test_message_spool.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from models.errors import NotFoundError
from service.database import Database
from service.messages.message_entry import MessageEntry
from service.messages.message_log import MessageLog
from service.messages.message_log_store import MessageFilter, MessageLogStore
from service.messages.message_log_writer import MessageLogWriter
from service.messages.message_spool import MessageSpool, entry_from_line
from tests.service.messages.conftest import entry

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_entries_round_trip_with_their_embedding(log_store: MessageLogStore) -> None:
    vector = np.linspace(-1, 1, 384, dtype=np.float32).astype(np.float16)
    stored = entry(1, embedding=vector.tobytes(), embedding_dim=384, detail={"triage": {"x": 1}})
    log_store.write([stored])
    back = log_store.get("m1")
    assert back == stored
    assert back.embedding is not None
    assert np.array_equal(np.frombuffer(back.embedding, dtype=np.float16), vector)
    with pytest.raises(NotFoundError, match="m2"):
        log_store.get("m2")


def test_page_is_newest_first_and_filters_combine(log_store: MessageLogStore) -> None:
    log_store.write(
        [
            entry(1, at=NOW - timedelta(hours=3), urgency="critical", queue="security"),
            entry(2, at=NOW - timedelta(hours=2), action="suggest", needs_agent=True),
            entry(3, at=NOW - timedelta(hours=1), action="suggest", needs_agent=False),
            entry(4, at=NOW, action="auto_reply", source="respond"),
        ]
    )
    ids = [e.id for e in log_store.page(MessageFilter()).items]
    assert ids == ["m4", "m3", "m2", "m1"]
    picked = log_store.page(MessageFilter(action="suggest", needs_agent=True)).items
    assert [e.id for e in picked] == ["m2"]
    assert [e.id for e in log_store.page(MessageFilter(queue="security")).items] == ["m1"]
    window = MessageFilter(since=NOW - timedelta(hours=2), until=NOW)
    assert [e.id for e in log_store.page(window).items] == ["m3", "m2"]
    page = log_store.page(MessageFilter(), limit=3, offset=1)
    assert [e.id for e in page.items] == ["m3", "m2", "m1"]
    assert (page.total, page.next_offset) == (4, None)


def test_volumes_bucket_by_hour_and_day(log_store: MessageLogStore) -> None:
    log_store.write(
        [
            entry(1, at=NOW - timedelta(days=1), intent="get_refund", urgency="high"),
            entry(2, at=NOW + timedelta(minutes=5)),
            entry(3, at=NOW + timedelta(minutes=50), intent=None, out_of_scope=True),
            entry(4, at=NOW + timedelta(hours=1)),
        ]
    )
    hours = log_store.volumes(since=None, until=None, bucket="hour")
    assert [(b.start, b.messages) for b in hours] == [
        (NOW - timedelta(days=1), 1),
        (NOW, 2),
        (NOW + timedelta(hours=1), 1),
    ]
    assert hours[1].intents == {"track_order": 1, "out_of_scope": 1}
    days = log_store.volumes(since=NOW - timedelta(hours=1), until=None, bucket="day")
    assert [(b.start, b.messages) for b in days] == [(NOW.replace(hour=0), 3)]


def test_top_cited_counts_each_message_once(log_store: MessageLogStore) -> None:
    def drafts(*doc_ids: str) -> dict[str, object]:
        citations = [{"doc_id": d, "title": d.upper()} for d in doc_ids]
        return {"triage": {}, "drafts": [{"citations": citations}, {"citations": citations}]}

    log_store.write(
        [
            entry(1, suggestion_id="s1", detail=drafts("refunds", "returns")),
            entry(2, suggestion_id="s2", detail=drafts("refunds")),
            entry(3, detail={"triage": {}}),
        ]
    )
    top = log_store.top_cited(since=None, until=None)
    assert [(a.doc_id, a.title, a.count) for a in top] == [
        ("refunds", "REFUNDS", 2),
        ("returns", "RETURNS", 1),
    ]


def test_retention_removes_only_expired_messages(
    log_store: MessageLogStore, tmp_path: Path
) -> None:
    log_store.write([entry(1, at=NOW - timedelta(days=31)), entry(2, at=NOW - timedelta(days=29))])
    spool = MessageSpool(tmp_path / "spool")
    writer = MessageLogWriter(log_store, spool=spool, retention=timedelta(days=30))
    assert writer.purge_expired(now=NOW) == 1
    assert [e.id for e in log_store.page(MessageFilter()).items] == ["m2"]
    forever = MessageLogWriter(log_store, spool=spool, retention=None)
    assert forever.purge_expired(now=NOW + timedelta(days=999)) == 0


def test_writer_stores_in_the_background_and_applies_retention_at_start(
    sqlite_database: Database, tmp_path: Path
) -> None:
    store = MessageLogStore(sqlite_database)
    store.write([entry(1, at=datetime.now(UTC) - timedelta(days=10))])
    log = MessageLog(sqlite_database, spool_dir=tmp_path / "spool", retention_days=7).start()
    try:
        log.record([entry(i, at=datetime.now(UTC)) for i in range(2, 302)])
        page = log.page(MessageFilter(), limit=1)  # waits for what was handed over
        assert page.total == 300
        assert log.writer.dropped == 0 and log.writer.pending == 0
    finally:
        log.close()


def test_a_full_queue_spools_instead_of_blocking(sqlite_database: Database, tmp_path: Path) -> None:
    writer = MessageLogWriter(
        MessageLogStore(sqlite_database),
        spool=MessageSpool(tmp_path / "spool"),
        retention=None,
        max_queue=2,
    )
    writer.record([entry(i) for i in range(5)])  # not started: nothing drains the queue
    assert (writer.pending, writer.spooled, writer.dropped) == (2, 3, 0)
    writer.start()  # replays the spool first
    assert writer.flush(5.0)
    writer.close()
    assert MessageLogStore(sqlite_database).page(MessageFilter()).total == 5
    assert writer.replayed == 3


def test_a_refused_entry_goes_to_the_dead_letter_file_alone(
    sqlite_database: Database, tmp_path: Path
) -> None:
    log = MessageLog(sqlite_database, spool_dir=tmp_path / "spool", retention_days=None).start()
    try:
        # source is NOT NULL: the database refuses that entry, and only that one.
        log.record([entry(1), entry(2, source=None), entry(3)])
        assert {e.id for e in log.page(MessageFilter()).items} == {"m1", "m3"}
        assert (log.writer.rejected, log.writer.dropped) == (1, 0)
    finally:
        log.close()
    lines = (tmp_path / "spool" / "rejected.jsonl").read_text("utf-8").splitlines()
    assert [entry_from_line(line) for line in lines] == [entry(2, source=None)]


def test_an_id_stored_already_is_skipped_not_refused(
    sqlite_database: Database, tmp_path: Path
) -> None:
    """A batch retried after a commit whose answer was lost must not duplicate or reject."""
    log = MessageLog(sqlite_database, spool_dir=tmp_path / "spool", retention_days=None).start()
    try:
        log.record([entry(1), entry(1), entry(2)])
        assert log.page(MessageFilter()).total == 2
        log.record([entry(2)])
        assert log.page(MessageFilter()).total == 2
        assert (log.writer.rejected, log.writer.dropped) == (0, 0)
    finally:
        log.close()


def test_storing_skips_ids_already_stored_on_every_database(log_store: MessageLogStore) -> None:
    """The writer's idempotent insert (a replayed spool, a retried batch) on SQLite and on
    PostgreSQL: duplicates within a batch and of earlier rows are left out, nothing fails."""
    log_store.write([entry(1), entry(2)], skip_existing=True)
    log_store.write([entry(2), entry(3), entry(3)], skip_existing=True)
    page = log_store.page(MessageFilter())
    assert page.total == 3
    assert sorted(m.id for m in page.items) == sorted(entry(n).id for n in (1, 2, 3))


def test_a_missing_table_keeps_the_entries_until_it_is_back(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'broken.db').as_posix()}")
    database.migrate()
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE message_log RENAME TO message_log_away"))
    spool = MessageSpool(tmp_path / "spool")
    writer = MessageLogWriter(
        MessageLogStore(database), spool=spool, retention=None, retry_max_s=0.2
    ).start()
    try:
        writer.record([entry(1), entry(2)])
        assert not writer.flush(1.0)  # retried, not given up
        writer.close(timeout_s=5.0)
        assert (writer.spooled, writer.dropped) == (2, 0)
        with database.engine.begin() as conn:
            conn.execute(text("ALTER TABLE message_log_away RENAME TO message_log"))
        again = MessageLogWriter(MessageLogStore(database), spool=spool, retention=None).start()
        again.close()
        assert again.replayed == 2
        assert MessageLogStore(database).page(MessageFilter()).total == 2
    finally:
        writer.close()
        database.close()


def test_embedded_messages_come_back_as_float32_oldest_first(log_store: MessageLogStore) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((3, 384)).astype(np.float32)
    log_store.write(
        [
            entry(i, at=NOW + timedelta(minutes=10 - i), embedding=v.astype(np.float16).tobytes())
            for i, v in enumerate(vectors)
        ]
        + [entry(9, at=NOW)]  # no embedding: left out
    )
    found = list(log_store.embedded(since=NOW, until=None, batch=2))
    assert [m.id for m in found] == ["m2", "m1", "m0"]
    for message in found:
        expected = vectors[int(message.id[1:])]
        assert message.embedding.dtype == np.float32
        assert np.allclose(message.embedding, expected, atol=1e-2)
    later = log_store.embedded(since=NOW + timedelta(minutes=9), until=None)
    assert [m.id for m in later] == ["m1", "m0"]


class CountingStore(MessageLogStore):
    """The real store, counting its transactions."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.transactions = 0

    def write(self, entries: Sequence[MessageEntry], *, skip_existing: bool = False) -> None:
        self.transactions += 1
        super().write(entries, skip_existing=skip_existing)


def test_writer_groups_entries_into_few_transactions_and_close_stores_all(
    sqlite_database: Database, tmp_path: Path
) -> None:
    store = CountingStore(sqlite_database)
    # A linger far longer than the test: only ``close`` can end the batch in time.
    writer = MessageLogWriter(
        store, spool=MessageSpool(tmp_path / "spool"), retention=None, linger_s=60.0
    ).start()
    for i in range(40):
        writer.record([entry(i)])
    writer.close()
    assert store.page(MessageFilter(), limit=1).total == 40
    assert 1 <= store.transactions < 40
    assert writer.dropped == 0


def test_flush_does_not_wait_for_the_linger(sqlite_database: Database, tmp_path: Path) -> None:
    writer = MessageLogWriter(
        MessageLogStore(sqlite_database),
        spool=MessageSpool(tmp_path / "spool"),
        retention=None,
        linger_s=60.0,
    )
    writer.start()
    try:
        writer.record([entry(1), entry(2)])
        assert writer.flush(timeout_s=20.0)
        assert writer.pending == 0
    finally:
        writer.close()
