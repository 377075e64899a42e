"""Service test fixtures: a SQLite file per test, a real PostgreSQL database created for the
test session (127.0.0.1:5432, user postgres) and dropped after, and full resources built by
the production wiring on the tiny models."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text

from kb_index.kb_document_store import KbDocumentStore
from kb_index.kb_tables import kb_chunks, kb_documents, kb_fusion, kb_revisions
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from service.database import Database
from service.main import create_app
from service.resources import Resources, load_resources
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.scratch_postgres import scratch_database

POSTGRES_ADMIN_URL = os.environ.get(
    "TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh, uniquely named PostgreSQL database, dropped at the end of the session."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database(POSTGRES_ADMIN_URL, prefix="triage_test"))
        except Exception as exc:
            pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {exc}")
        yield url


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


@pytest.fixture
def kb_database(database: Database) -> Database:
    """The shared database fixture (SQLite file, PostgreSQL) with no KB documents and no
    recorded fusion weights."""
    with database.engine.begin() as conn:
        for table in (kb_chunks, kb_documents, kb_revisions, kb_fusion):
            conn.execute(delete(table))
    return database


@pytest.fixture
def workers(kb_database: Database) -> Iterator[Callable[[], SharedKnowledgeBase]]:
    """Builds following knowledge bases on one database, as separate workers would."""
    made: list[SharedKnowledgeBase] = []

    def make() -> SharedKnowledgeBase:
        kb = SharedKnowledgeBase(
            encoder=HashingEncoder(), store=KbDocumentStore(kb_database.engine)
        ).follow(interval=0.1)
        made.append(kb)
        return kb

    yield make
    for kb in made:
        kb.close()


def tiny_settings(
    data_dir: Path, intent_dir: Path, urgency_dir: Path, **overrides: Any
) -> Settings:
    """Settings for an app on the tiny models, seeding the demo orders into a fresh database;
    ``overrides`` win over all of it (another intent model included)."""
    defaults: dict[str, Any] = {
        "data_dir": data_dir,
        "intent_model_dir": intent_dir,
        "urgency_model_dir": urgency_dir,
        "orders_seed_sample": True,
        # The shipped answerability gate is fitted for the real encoder (and refuses this
        # one); a low fixed threshold lets the hashing encoder's drafts through.
        "drafts_min_relevance": 0.3,
    }
    return Settings(**{**defaults, **overrides})


@pytest.fixture(scope="module")
def build_tiny_resources(
    tiny_intent_dir: Path, tiny_urgency_dir: Path
) -> Callable[..., AbstractContextManager[Resources]]:
    """Production wiring (``load_resources``) on the tiny models and the hashing encoder, in
    a data folder of the caller's; extra settings override the tiny ones."""

    @contextmanager
    def build(data_dir: Path, **overrides: Any) -> Iterator[Resources]:
        settings = tiny_settings(data_dir, tiny_intent_dir, tiny_urgency_dir, **overrides)
        resources = load_resources(settings, encoder=HashingEncoder())
        try:
            yield resources
        finally:
            resources.close()

    return build


@pytest.fixture(scope="module")
def tiny_resources(
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[Resources]:
    """Full resources on the tiny models, with a database of this test module's own."""
    with build_tiny_resources(tmp_path_factory.mktemp("var")) as resources:
        yield resources


@pytest.fixture(scope="module")
def tiny_client(tiny_resources: Resources) -> Iterator[TestClient]:
    """A TestClient over ``create_app`` with the module's tiny resources."""
    with TestClient(create_app(tiny_resources.settings, resources=tiny_resources)) as client:
        yield client
