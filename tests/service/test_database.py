"""The service database: URL checks and migrations that several workers may run at once."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.database import (
    Database,
    DatabaseError,
    DatabaseTimeouts,
    StallBreaker,
    head_revision,
)
from tests.fixtures.scratch_postgres import scratch_database
from tests.service.conftest import POSTGRES_ADMIN_URL


def _migrate(url: str) -> str:
    database = Database(url)
    try:
        return database.migrate()
    finally:
        database.close()


def _migrate_concurrently(url: str, workers: int = 3) -> list[str]:
    """Like uvicorn workers: separate processes migrating the same new database."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_migrate, [url] * workers))


def test_workers_starting_together_on_a_new_sqlite_file_all_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'new' / 'triage.db').as_posix()}"
    assert _migrate_concurrently(url) == [head_revision()] * 3


def test_threads_of_one_process_migrating_together_do_not_collide(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'triage.db').as_posix()}"
    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(_migrate, [url] * 3)) == [head_revision()] * 3


@pytest.mark.integration
def test_workers_starting_together_on_a_new_postgres_database_all_migrate() -> None:
    with scratch_database(POSTGRES_ADMIN_URL, prefix="triage_test") as url:
        assert _migrate_concurrently(url) == [head_revision()] * 3


def test_nonsense_url_is_refused_with_the_url_named() -> None:
    with pytest.raises(DatabaseError, match="not a SQLAlchemy URL"):
        Database("not a url")


def test_unreachable_database_fails_migration_clearly() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(
        DatabaseError, match=r"cannot migrate database postgresql\+psycopg://nobody@"
    ):
        db.migrate()
    db.close()


def test_the_stall_breaker_fails_fast_for_its_window_then_lets_calls_through() -> None:
    breaker = StallBreaker(open_s=0.2)
    breaker.check()  # closed: no error
    breaker.trip()
    with pytest.raises(psycopg.OperationalError, match="stalled moments ago"):
        breaker.check()
    time.sleep(0.25)
    breaker.check()


@pytest.mark.integration
def test_a_statement_past_the_timeout_fails_instead_of_waiting(postgres_url: str) -> None:
    database = Database(postgres_url, timeouts=DatabaseTimeouts(statement_s=1.0))
    try:
        cancelled = pytest.raises(OperationalError, match="canceling statement due to statement")
        with cancelled, database.engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(30)"))
        # The server cancelled it (it answers): no stall, the next call goes through.
        database.ping()
    finally:
        database.close()
