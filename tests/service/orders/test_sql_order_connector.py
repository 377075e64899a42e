"""The embedded order table, on SQLite and on a real PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from service.database import Base, Database, head_revision
from service.orders.customer_identity import CustomerIdentity
from service.orders.order import Order, OrderItem, OrderStatus
from service.orders.sql_order_connector import SqlOrderConnector

PLACED = datetime(2026, 11, 19, 9, 12, tzinfo=UTC)


def _order(order_id: str, *, days_ago: int = 0, **overrides: object) -> Order:
    fields: dict[str, object] = {
        "id": order_id,
        "status": OrderStatus.IN_TRANSIT,
        "placed_at": PLACED - timedelta(days=days_ago),
        "customer_id": "C-1",
        "customer_email": "Jane.Doe@Example.com",
        "carrier": "ParcelPoint",
        "tracking_number": "PP1",
        "tracking_url": "https://track.example/PP1",
        "estimated_delivery": date(2026, 11, 26),
        "items": (OrderItem("Teapot", 1, sku="TP-1"), OrderItem("Mug", 2)),
    }
    fields.update(overrides)
    return Order(**fields)  # type: ignore[arg-type]


def test_migrations_build_exactly_the_declared_schema(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert database.current_revision() == head_revision()
    assert "orders" in inspect(database.engine).get_table_names()


def test_migrate_twice_is_a_no_op(database: Database) -> None:
    SqlOrderConnector(database).upsert_orders([_order("1001")])
    assert database.migrate() == head_revision()
    assert SqlOrderConnector(database).count() == 1


def test_stored_order_reads_back_identically(database: Database) -> None:
    store = SqlOrderConnector(database)
    order = _order(
        "4411829",
        shipped_at=datetime(2026, 11, 20, 16, 40, tzinfo=UTC),
        delivered_at=None,
    )
    store.upsert_orders([order])
    assert store.get_order("4411829") == order


def test_unknown_order_is_none(database: Database) -> None:
    assert SqlOrderConnector(database).get_order("999") is None


def test_datetimes_come_back_in_utc_whatever_zone_went_in(database: Database) -> None:
    from zoneinfo import ZoneInfo

    berlin = datetime(2026, 11, 19, 10, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    store = SqlOrderConnector(database)
    store.upsert_orders([_order("1", placed_at=berlin)])
    stored = store.get_order("1")
    assert stored is not None
    assert stored.placed_at == berlin
    assert stored.placed_at.utcoffset() == timedelta(0)


def test_upsert_inserts_new_and_overwrites_existing_orders(database: Database) -> None:
    store = SqlOrderConnector(database)
    first = store.upsert_orders([_order("1"), _order("2")])
    assert (first.inserted, first.updated) == (2, 0)
    delivered = _order("2", status=OrderStatus.DELIVERED, delivered_at=PLACED + timedelta(days=3))
    second = store.upsert_orders([delivered, _order("3")])
    assert (second.inserted, second.updated) == (1, 1)
    assert store.count() == 3
    assert store.get_order("2") == delivered


def test_recent_orders_match_email_ignoring_case_and_spaces(database: Database) -> None:
    store = SqlOrderConnector(database)
    store.upsert_orders([_order("1", days_ago=3), _order("2", days_ago=1), _order("3", days_ago=2)])
    found = store.recent_orders(CustomerIdentity(email="  jane.doe@EXAMPLE.com "), limit=10)
    assert [o.id for o in found] == ["2", "3", "1"]
    assert [o.id for o in store.recent_orders(CustomerIdentity(id="C-1"), limit=2)] == ["2", "3"]


def test_recent_orders_never_include_another_customers_order(database: Database) -> None:
    store = SqlOrderConnector(database)
    store.upsert_orders(
        [
            _order("1"),
            _order("2", customer_id="C-2", customer_email="omar@example.com"),
            # Same customer id, other e-mail: the caller's e-mail must agree too.
            _order("3", customer_email="someone.else@example.com"),
        ]
    )
    jane = CustomerIdentity(id="C-1", email="jane.doe@example.com")
    assert [o.id for o in store.recent_orders(jane, limit=10)] == ["1"]
    assert store.recent_orders(CustomerIdentity(email="nobody@example.com"), limit=10) == []
    assert store.recent_orders(CustomerIdentity(), limit=10) == []


def test_large_upsert_runs_in_batches(database: Database) -> None:
    store = SqlOrderConnector(database)
    counts = store.upsert_orders([_order(str(n)) for n in range(600)])
    assert counts.inserted == 600
    assert store.count() == 600
