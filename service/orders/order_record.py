"""Storage row of the embedded orders table (the schema is owned by the migrations)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base, UtcDateTime
from service.orders.order import OrderStatus

STATUS_VALUES = tuple(s.value for s in OrderStatus)


class OrderRecord(Base):
    """One row of ``orders``. ``customer_email_key`` is the matching form of the e-mail."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{v}'" for v in STATUS_VALUES) + ")", name="status"
        ),
        Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
        Index("ix_orders_customer_email_key_placed_at", "customer_email_key", "placed_at"),
    )

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_email_key: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str | None] = mapped_column(String(128))
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    tracking_url: Mapped[str | None] = mapped_column(String(2048))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    estimated_delivery: Mapped[date | None] = mapped_column(Date)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
