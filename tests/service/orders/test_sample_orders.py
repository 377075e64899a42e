"""The demo sample: deterministic, covers every status, holds the README's orders."""

from __future__ import annotations

from datetime import date

from service.database import Database
from service.orders.customer_identity import CustomerIdentity
from service.orders.order import OrderStatus
from service.orders.sample_orders import sample_orders, seed_if_empty
from service.orders.sql_order_connector import SqlOrderConnector

TODAY = date(2026, 11, 22)


def test_same_day_and_seed_give_the_same_sample() -> None:
    assert sample_orders(TODAY) == sample_orders(TODAY)
    assert sample_orders(TODAY, seed=1) != sample_orders(TODAY, seed=2)


def test_sample_has_every_status_and_unique_ids() -> None:
    orders = sample_orders(TODAY, count=40)
    assert {o.status for o in orders} == set(OrderStatus)
    assert len({o.id for o in orders}) == len(orders)


def test_readme_order_is_janes_and_in_transit_until_thursday() -> None:
    jane = next(o for o in sample_orders(TODAY) if o.id == "4411829")
    assert jane.status is OrderStatus.IN_TRANSIT
    assert CustomerIdentity(email="jane@example.com").owns(jane)
    assert jane.estimated_delivery == date(2026, 11, 26)
    assert jane.tracking_url is not None and jane.tracking_url.startswith("https://")


def test_seed_fills_only_an_empty_table(sqlite_database: Database) -> None:
    store = SqlOrderConnector(sqlite_database)
    added = seed_if_empty(store, today=TODAY)
    assert added == len(sample_orders(TODAY)) == store.count()
    assert seed_if_empty(store, today=TODAY) == 0
