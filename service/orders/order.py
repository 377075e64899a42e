"""The order domain type every connector returns, whatever the shop's own format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order stands. Connectors map the shop's own vocabulary onto these."""

    PROCESSING = "processing"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    CANCELLED = "cancelled"
    RETURNED = "returned"

    @property
    def is_open(self) -> bool:
        """Still on its way to the customer (what "my order" usually means)."""
        return self not in _CLOSED


_CLOSED = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED})


@dataclass(frozen=True)
class OrderItem:
    """One line of an order."""

    name: str
    quantity: int = 1
    sku: str | None = None


@dataclass(frozen=True)
class Order:
    """An order as the service sees it.

    Datetimes are timezone-aware (UTC when the source gave none); the estimated
    delivery is a calendar date because carriers promise days, not instants.
    """

    id: str
    status: OrderStatus
    placed_at: datetime
    customer_id: str | None = None
    customer_email: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: datetime | None = None
    estimated_delivery: date | None = None
    delivered_at: datetime | None = None
    items: tuple[OrderItem, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("an order needs a non-empty id")
        if self.placed_at.tzinfo is None:
            raise ValueError("placed_at must be timezone-aware")
        if not (self.customer_id or self.customer_email):
            # An order nobody can own could never be shown to anyone: refuse it early.
            raise ValueError(f"order {self.id} has neither customer_id nor customer_email")
