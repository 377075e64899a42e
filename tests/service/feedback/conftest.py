"""Feedback-store fixtures: the same tests on SQLite and the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import text

from service.database import Database
from service.drafting.draft import Citation, Draft, DraftSet
from service.feedback.feedback_store import FeedbackStore
from service.resources import Resources

FEEDBACK_TABLES = ("feedback", "respond_decisions", "suggestions")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> FeedbackStore:
    """An empty feedback store on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        database: Database = request.getfixturevalue("sqlite_database")
    else:
        database = request.getfixturevalue("postgres_database")
        with database.engine.begin() as conn:
            for table in FEEDBACK_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
    return FeedbackStore(database)


def draft_set(set_id: str, *texts: str, needs_agent: bool = False) -> DraftSet:
    """A suggestion with drafts ``texts`` (ids ``<set_id>-1``, ...)."""
    citation = Citation("hc-refund-timing", "When will I get my refund?", None, "snippet")
    drafts = tuple(
        Draft(
            id=f"{set_id}-{i}",
            text=t,
            citations=(citation,),
            grounded=True,
            confidence=0.8,
        )
        for i, t in enumerate(texts, start=1)
    )
    return DraftSet(
        id=set_id,
        drafts=drafts,
        passages=(),
        needs_agent=needs_agent,
        relevance=0.6,
        generator="extractive",
        versions={"kb_index": "kb-test"},
    )


@pytest.fixture
def fresh_resources(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[Resources]:
    """Resources with a database of this test's own (tests that break it)."""
    with build_tiny_resources(tmp_path / "var") as resources:
        yield resources
