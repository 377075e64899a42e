"""Message-log fixtures: an empty log on SQLite and on the real PostgreSQL, and a fresh
service per test (for tests that must count from zero)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from service.database import Database
from service.messages.message_entry import MessageEntry
from service.messages.message_log_store import MessageLogStore
from service.resources import Resources


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def log_store(request: pytest.FixtureRequest) -> MessageLogStore:
    """An empty message log on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        database: Database = request.getfixturevalue("sqlite_database")
    else:
        database = request.getfixturevalue("postgres_database")
        with database.engine.begin() as conn:
            conn.execute(text("DELETE FROM message_log"))
    return MessageLogStore(database)


def entry(number: int, *, at: datetime | None = None, **fields: Any) -> MessageEntry:
    """A log entry with plain values (id ``m<number>``)."""
    values: dict[str, Any] = {
        "id": f"m{number}",
        "created_at": at or datetime(2026, 11, 30, 12, number % 60, tzinfo=UTC),
        "source": "triage",
        "text": f"message {number}",
        "intent": "track_order",
        "confidence": 0.9,
        "out_of_scope": False,
        "model_version": "m@1",
        "detail": {"triage": {}},
        "urgency": "normal",
        "queue": "orders",
    }
    values.update(fields)
    return MessageEntry(**values)


@pytest.fixture
def fresh_resources(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[Resources]:
    """Tiny resources with an empty database of this test's own."""
    with build_tiny_resources(tmp_path / "var") as resources:
        yield resources
