"""Fixtures for the respond tests: a seeded order table and a decider with a pinned clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.database import Database
from service.orders.sample_orders import sample_orders
from service.orders.sql_order_connector import SqlOrderConnector
from service.respond.respond_policy import RespondPolicy
from service.respond.response_decider import ResponseDecider

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
