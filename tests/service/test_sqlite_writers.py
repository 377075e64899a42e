"""SQLite writers queue in arrival order instead of polling SQLite's busy handler."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from models.arrival_order_lanes import ArrivalOrderLanes
from service.database import Database
from service.sqlite_writers import SqliteWriterQueue, is_write

WRITERS = 16
HOLD_S = 0.04  # each transaction keeps the write lock this long


def _engine(path: Path) -> Engine:
    # A busy timeout far below what 16 writers holding the lock 40 ms each need.
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"timeout": 0.2}, pool_size=WRITERS, max_overflow=0
    )
    with engine.begin() as conn:
        conn.execute(text("PRAGMA journal_mode=WAL"))
        conn.execute(text("CREATE TABLE rows (writer INTEGER, at REAL)"))
    return engine


def _write_concurrently(engine: Engine) -> tuple[list[BaseException], list[int]]:
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        start.wait()
        time.sleep(n * 0.01)  # arrive in order 0, 1, 2, ...
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO rows VALUES (:n, :at)"), {"n": n, "at": 0.0})
                time.sleep(HOLD_S)
                conn.execute(
                    text("UPDATE rows SET at = :at WHERE writer = :n"),
                    {"n": n, "at": time.monotonic()},
                )
        except OperationalError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        order = [r[0] for r in conn.execute(text("SELECT writer FROM rows ORDER BY at"))]
    return errors, order


def test_without_the_queue_writers_time_out(tmp_path: Path) -> None:
    errors, _ = _write_concurrently(_engine(tmp_path / "plain.db"))
    assert errors and "locked" in str(errors[0])


def test_queued_writers_all_commit_in_arrival_order(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "queued.db")
    SqliteWriterQueue(engine, wait_s=30)
    errors, order = _write_concurrently(engine)
    assert errors == []
    assert order == sorted(order) and len(order) == WRITERS


def test_readers_do_not_queue_behind_a_writer(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "read.db")
    SqliteWriterQueue(engine, wait_s=30)
    with engine.begin() as writing:
        writing.execute(text("INSERT INTO rows VALUES (1, 0)"))
        begun = time.monotonic()
        with engine.connect() as reading:
            assert reading.execute(text("SELECT count(*) FROM rows")).scalar() == 0
        assert time.monotonic() - begun < 1.0


def test_a_failed_transaction_gives_its_turn_back(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "failed.db")
    SqliteWriterQueue(engine, wait_s=1)
    with pytest.raises(OperationalError), engine.begin() as conn:
        conn.execute(text("INSERT INTO rows VALUES (1, 0)"))
        conn.execute(text("INSERT INTO missing VALUES (1)"))
    began = time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rows VALUES (2, 0)"))
    assert time.monotonic() - began < 0.5


def test_the_service_database_queues_sqlite_writers(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'svc.db'}")
    queue = database.sqlite_writers
    assert queue is not None
    assert event.contains(database.engine, "before_cursor_execute", queue._before_execute)


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO t VALUES (1)", True),
        ("  update t set a = 1", True),
        ("DELETE FROM t", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("SELECT * FROM t", False),
        ("PRAGMA foreign_keys=ON", False),
    ],
)
def test_which_statements_write(statement: str, writes: bool) -> None:
    assert is_write(statement) is writes


def test_lanes_time_out_and_serve_in_arrival_order() -> None:
    lanes = ArrivalOrderLanes(1)
    assert lanes.acquire()
    assert lanes.acquire(timeout=0.05) is False
    served: list[int] = []

    def waiter(n: int) -> None:
        lanes.acquire()
        served.append(n)
        lanes.release()

    threads = []
    for n in range(5):
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        threads.append(t)
        time.sleep(0.02)
    lanes.release()
    for t in threads:
        t.join()
    assert served == [0, 1, 2, 3, 4]
