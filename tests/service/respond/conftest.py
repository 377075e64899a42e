"""Fixtures for the respond tests: a seeded order table and a decider with a pinned clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.database import Database
from service.main import create_app
from service.orders.sample_orders import sample_orders
from service.orders.sql_order_connector import SqlOrderConnector
from service.resources import Resources, load_resources
from service.respond.respond_policy import RespondPolicy
from service.respond.response_decider import ResponseDecider
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder

TODAY = date(2026, 11, 22)  # a Sunday; the demo order 4411829 is due Thursday 26 November
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def order_store(sqlite_database: Database) -> SqlOrderConnector:
    """The demo sample in a SQLite table of its own."""
    store = SqlOrderConnector(sqlite_database)
    store.upsert_orders(sample_orders(TODAY, count=30))
    return store


@pytest.fixture(scope="session")
def default_policy() -> RespondPolicy:
    """The shipped policy file."""
    return RespondPolicy.default()


@pytest.fixture
def decider(order_store: SqlOrderConnector, default_policy: RespondPolicy) -> ResponseDecider:
    """The default decision rules over the demo orders, on 22 November 2026."""
    return ResponseDecider(policy=default_policy, orders=order_store, clock=lambda: NOW)


def tiny_settings(
    data_dir: Path, intent_dir: Path, urgency_dir: Path, **overrides: Any
) -> Settings:
    """Settings for an app on the tiny models, seeding the demo orders into a fresh database."""
    return Settings(
        data_dir=data_dir,
        intent_model_dir=intent_dir,
        urgency_model_dir=urgency_dir,
        orders_seed_sample=True,
        # The shipped answerability gate is fitted for the real encoder (and refuses this
        # one); a low fixed threshold lets the hashing encoder's drafts through.
        drafts_min_relevance=0.3,
        **overrides,
    )


@pytest.fixture(scope="module")
def respond_resources(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_intent_dir: Path,
    tiny_urgency_dir: Path,
    hashing_encoder: HashingEncoder,
) -> Iterator[Resources]:
    """Production wiring (``load_resources``) on the tiny models and the hashing encoder."""
    settings = tiny_settings(tmp_path_factory.mktemp("var"), tiny_intent_dir, tiny_urgency_dir)
    resources = load_resources(settings, encoder=hashing_encoder)
    try:
        yield resources
    finally:
        resources.close()


@pytest.fixture(scope="module")
def respond_client(respond_resources: Resources) -> Iterator[TestClient]:
    """A TestClient over ``create_app`` with the tiny resources."""
    app = create_app(respond_resources.settings, resources=respond_resources)
    with TestClient(app) as client:
        yield client
