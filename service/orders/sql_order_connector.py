"""The embedded default: orders in the service's own database table."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from service.database import Database
from service.orders.customer_identity import CustomerIdentity, normalise_email
from service.orders.order import Order, OrderItem, OrderStatus
from service.orders.order_connector import OrderConfigError, OrderConnectorError
from service.orders.order_record import OrderRecord
from service.settings import Settings

logger = logging.getLogger(__name__)

_UPSERT_BATCH = 500


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did."""

    inserted: int
    updated: int


def order_to_row(order: Order, *, now: datetime) -> dict[str, Any]:
    """Column values for ``order``."""
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "customer_email": order.customer_email,
        "customer_email_key": (
            normalise_email(order.customer_email) if order.customer_email else None
        ),
        "status": order.status.value,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "placed_at": order.placed_at,
        "shipped_at": order.shipped_at,
        "estimated_delivery": order.estimated_delivery,
        "delivered_at": order.delivered_at,
        "items": [
            {"name": i.name, "quantity": i.quantity, **({"sku": i.sku} if i.sku else {})}
            for i in order.items
        ],
        "updated_at": now,
    }


def row_to_order(row: OrderRecord) -> Order:
    """The domain order for a stored row."""
    return Order(
        id=row.order_id,
        status=OrderStatus(row.status),
        placed_at=row.placed_at,
        customer_id=row.customer_id,
        customer_email=row.customer_email,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        shipped_at=row.shipped_at,
        estimated_delivery=row.estimated_delivery,
        delivered_at=row.delivered_at,
        items=tuple(
            OrderItem(name=str(i["name"]), quantity=int(i.get("quantity", 1)), sku=i.get("sku"))
            for i in row.items or []
        ),
    )


def _upsert_statement(dialect_insert: Callable[[Any], Any], rows: list[dict[str, Any]]) -> Insert:
    stmt = dialect_insert(OrderRecord).values(rows)
    columns = {c: stmt.excluded[c] for c in rows[0] if c != "order_id"}
    upsert: Insert = stmt.on_conflict_do_update(index_elements=["order_id"], set_=columns)
    return upsert


# Both engines the service supports speak INSERT ... ON CONFLICT DO UPDATE.
_DIALECT_INSERT: dict[str, Callable[[Any], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


class SqlOrderConnector:
    """Reads and upserts orders in the ``orders`` table of the service database.

    The database (engine, migrations) belongs to the caller; this class only runs
    queries, so ``close()`` has nothing to release.
    """

    def __init__(self, database: Database) -> None:
        if database.dialect not in _DIALECT_INSERT:
            raise OrderConfigError(
                f"the embedded order table supports {', '.join(_DIALECT_INSERT)}, "
                f"not {database.dialect}"
            )
        self.database = database

    @property
    def name(self) -> str:
        """``sql:<dialect>``."""
        return f"sql:{self.database.dialect}"

    def get_order(self, order_id: str) -> Order | None:
        """The order with this exact id, or ``None``."""
        try:
            with self.database.session() as session:
                row = session.get(OrderRecord, order_id)
                return row_to_order(row) if row is not None else None
        except SQLAlchemyError as exc:
            raise OrderConnectorError(f"order table query failed: {exc}") from exc

    def recent_orders(self, customer: CustomerIdentity, *, limit: int) -> Sequence[Order]:
        """The customer's newest orders that ``customer.owns`` (id and e-mail must agree)."""
        conditions = []
        if customer.customer_id is not None:
            conditions.append(OrderRecord.customer_id == customer.customer_id)
        if customer.normalised_email is not None:
            conditions.append(OrderRecord.customer_email_key == customer.normalised_email)
        if not conditions or limit < 1:
            return []
        query = (
            select(OrderRecord)
            .where(or_(*conditions))
            .order_by(OrderRecord.placed_at.desc(), OrderRecord.order_id)
            .limit(limit)
        )
        try:
            with self.database.session() as session:
                orders = [row_to_order(r) for r in session.scalars(query)]
        except SQLAlchemyError as exc:
            raise OrderConnectorError(f"order table query failed: {exc}") from exc
        return [o for o in orders if customer.owns(o)]

    def upsert_orders(
        self, orders: Iterable[Order], *, progress: Callable[[int], None] | None = None
    ) -> UpsertCounts:
        """Insert new orders and overwrite existing ones with the same id, in one transaction.

        Args:
            progress: called with the number of rows written after each batch.
        """
        insert = _DIALECT_INSERT[self.database.dialect]
        now = datetime.now(UTC)
        by_id = {o.id: order_to_row(o, now=now) for o in orders}  # last row of an id wins
        rows = list(by_id.values())
        existing = 0
        with self.database.session() as session, session.begin():
            for start in range(0, len(rows), _UPSERT_BATCH):
                batch = rows[start : start + _UPSERT_BATCH]
                ids = [r["order_id"] for r in batch]
                existing += (
                    session.scalar(
                        select(func.count())
                        .select_from(OrderRecord)
                        .where(OrderRecord.order_id.in_(ids))
                    )
                    or 0
                )
                session.execute(_upsert_statement(insert, batch))
                if progress is not None:
                    progress(len(batch))
        logger.info("upserted %d orders (%d new)", len(rows), len(rows) - existing)
        return UpsertCounts(inserted=len(rows) - existing, updated=existing)

    def count(self) -> int:
        """Number of stored orders."""
        with self.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(OrderRecord)) or 0)

    def close(self) -> None:
        """Nothing to release: the database is closed by its owner."""


def build_sql_connector(settings: Settings, database: Database) -> SqlOrderConnector:
    """``TRIAGE_ORDERS_CONNECTOR=sql``: the service database's own orders table."""
    return SqlOrderConnector(database)
