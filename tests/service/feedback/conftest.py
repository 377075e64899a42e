"""Feedback-store fixtures: the same tests on SQLite and the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.database import Database
from service.drafting.draft import Citation, Draft, DraftSet
from service.feedback.feedback_store import FeedbackStore
from service.main import create_app
from service.resources import Resources, load_resources
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.service.respond.conftest import tiny_settings

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


def _resources(data_dir: Path, intent_dir: Path, urgency_dir: Path, **extra: object) -> Resources:
    settings = tiny_settings(data_dir, intent_dir, urgency_dir, **extra)
    return load_resources(settings, encoder=HashingEncoder())


@pytest.fixture(scope="module")
def feedback_resources(
    tmp_path_factory: pytest.TempPathFactory, tiny_intent_dir: Path, tiny_urgency_dir: Path
) -> Iterator[Resources]:
    """Production wiring on the tiny models and a SQLite file of this module's own."""
    resources = _resources(tmp_path_factory.mktemp("var"), tiny_intent_dir, tiny_urgency_dir)
    try:
        yield resources
    finally:
        resources.close()


@pytest.fixture(scope="module")
def feedback_client(feedback_resources: Resources) -> Iterator[TestClient]:
    """A TestClient over ``create_app`` with the module's resources."""
    with TestClient(create_app(feedback_resources.settings, resources=feedback_resources)) as c:
        yield c


@pytest.fixture
def fresh_resources(
    tmp_path: Path, tiny_intent_dir: Path, tiny_urgency_dir: Path
) -> Iterator[Resources]:
    """Resources with a database of this test's own (tests that break it)."""
    resources = _resources(tmp_path / "var", tiny_intent_dir, tiny_urgency_dir)
    try:
        yield resources
    finally:
        resources.close()
