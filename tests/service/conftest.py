"""Database fixtures for service tests: a SQLite file per test, and a real PostgreSQL
database created for the test session (127.0.0.1:5432, user postgres) and dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.database import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh, uniquely named PostgreSQL database, dropped at the end of the session."""
    name = f"triage_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {exc}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database, migrated to the newest revision."""
    database = Database(postgres_url)
    database.migrate()
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite file of its own for each test."""
    database = Database(f"sqlite:///{(tmp_path / 'triage.db').as_posix()}")
    database.migrate()
    try:
        yield database
    finally:
        database.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on PostgreSQL, each starting with no orders."""
    if request.param == "sqlite":
        db: Database = request.getfixturevalue("sqlite_database")
        return db
    db = request.getfixturevalue("postgres_database")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM orders"))
    return db
