"""A deterministic sample of orders for the demo store, dated relative to a given day.

A few well-known customers make the README's examples work; the rest is generated
from a fixed seed. Same ``today`` and seed, same orders.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from service.orders.order import Order, OrderItem, OrderStatus
from service.orders.sql_order_connector import SqlOrderConnector

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Carrier:
    """A (fictional) carrier and its tracking page."""

    name: str
    url_prefix: str
    prefix: str


CARRIERS = (
    Carrier("ParcelPoint", "https://track.parcelpoint.example/t/", "PP"),
    Carrier("SwiftPost", "https://swiftpost.example/tracking?id=", "SP"),
    Carrier("Northwind Freight", "https://northwind-freight.example/track/", "NW"),
)
PRODUCTS = (
    "Stoneware mug",
    "Linen tea towel",
    "Merino wool scarf",
    "Walnut chopping board",
    "Ceramic teapot",
    "Cotton throw",
    "Enamel water bottle",
    "Beeswax candle set",
    "Oak desk tidy",
    "Recycled notebook",
)

#: Customers the README and the demo use: (id, e-mail, name).
DEMO_CUSTOMERS = (
    ("C-1001", "jane@example.com", "Jane Doe"),
    ("C-1002", "omar@example.com", "Omar Haddad"),
    ("C-1003", "lena@example.com", "Lena Fischer"),
    ("C-1004", "sam@example.com", "Sam Lee"),
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _shipped(
    order_id: str,
    customer: tuple[str, str, str],
    status: OrderStatus,
    *,
    today: date,
    placed_days_ago: int,
    shipped_days_ago: int | None,
    eta_in_days: int | None,
    carrier: Carrier,
    tracking: str,
    items: tuple[OrderItem, ...],
    delivered_days_ago: int | None = None,
) -> Order:
    shipped = status not in {OrderStatus.PROCESSING, OrderStatus.CANCELLED}
    return Order(
        id=order_id,
        status=status,
        placed_at=_at(today - timedelta(days=placed_days_ago), 9, 12),
        customer_id=customer[0],
        customer_email=customer[1],
        carrier=carrier.name if shipped else None,
        tracking_number=f"{carrier.prefix}{tracking}" if shipped else None,
        tracking_url=f"{carrier.url_prefix}{carrier.prefix}{tracking}" if shipped else None,
        shipped_at=(
            _at(today - timedelta(days=shipped_days_ago), 16, 40)
            if shipped and shipped_days_ago is not None
            else None
        ),
        estimated_delivery=today + timedelta(days=eta_in_days) if eta_in_days is not None else None,
        delivered_at=(
            _at(today - timedelta(days=delivered_days_ago), 11, 5)
            if delivered_days_ago is not None
            else None
        ),
        items=items,
    )


def demo_orders(today: date) -> list[Order]:
    """The orders the README talks about."""
    jane, omar, lena, sam = DEMO_CUSTOMERS
    pp, sp, nw = CARRIERS
    return [
        _shipped(
            "4411829", jane, OrderStatus.IN_TRANSIT, today=today, placed_days_ago=3,
            shipped_days_ago=2, eta_in_days=4, carrier=pp, tracking="7730194412",
            items=(OrderItem("Ceramic teapot", 1), OrderItem("Stoneware mug", 2)),
        ),
        _shipped(
            "4398120", jane, OrderStatus.DELIVERED, today=today, placed_days_ago=41,
            shipped_days_ago=39, eta_in_days=None, carrier=sp, tracking="5512093381",
            items=(OrderItem("Linen tea towel", 3),), delivered_days_ago=36,
        ),
        _shipped(
            "4411901", omar, OrderStatus.PROCESSING, today=today, placed_days_ago=1,
            shipped_days_ago=None, eta_in_days=6, carrier=nw, tracking="",
            items=(OrderItem("Merino wool scarf", 1),),
        ),
        _shipped(
            "4411755", omar, OrderStatus.SHIPPED, today=today, placed_days_ago=5,
            shipped_days_ago=1, eta_in_days=3, carrier=nw, tracking="00418832",
            items=(OrderItem("Walnut chopping board", 1),),
        ),
        _shipped(
            "4402277", lena, OrderStatus.DELAYED, today=today, placed_days_ago=12,
            shipped_days_ago=10, eta_in_days=2, carrier=sp, tracking="5519920417",
            items=(OrderItem("Cotton throw", 1),),
        ),
        _shipped(
            "4410033", sam, OrderStatus.OUT_FOR_DELIVERY, today=today, placed_days_ago=4,
            shipped_days_ago=2, eta_in_days=0, carrier=pp, tracking="7730188210",
            items=(OrderItem("Beeswax candle set", 2),),
        ),
    ]  # fmt: skip


def generated_orders(today: date, *, count: int, seed: int = 7) -> list[Order]:
    """``count`` more orders for made-up customers, every status represented."""
    rng = random.Random(seed)
    statuses = list(OrderStatus)
    orders = []
    for n in range(count):
        status = statuses[n % len(statuses)]
        customer_no = 2000 + rng.randrange(count // 2 + 1)
        customer = (f"C-{customer_no}", f"customer{customer_no}@example.net", "")
        placed = rng.randrange(1, 60)
        shipped = max(0, placed - rng.randrange(1, 3))
        carrier = rng.choice(CARRIERS)
        delivered = (
            max(0, shipped - rng.randrange(1, 5)) if status is OrderStatus.DELIVERED else None
        )
        eta = (
            None
            if status in {OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED}
            else rng.randrange(0, 8)
        )
        if status is OrderStatus.OUT_FOR_DELIVERY:
            eta = 0
        items = tuple(
            OrderItem(name, rng.randrange(1, 4))
            for name in rng.sample(PRODUCTS, rng.randrange(1, 4))
        )
        orders.append(
            _shipped(
                str(4500000 + n), customer, status, today=today, placed_days_ago=placed,
                shipped_days_ago=shipped, eta_in_days=eta, carrier=carrier,
                tracking=f"{rng.randrange(10**9, 10**10)}", items=items,
                delivered_days_ago=delivered,
            )
        )  # fmt: skip
    return orders


def sample_orders(today: date, *, count: int = 200, seed: int = 7) -> list[Order]:
    """Demo orders plus ``count`` generated ones."""
    return demo_orders(today) + generated_orders(today, count=count, seed=seed)


def seed_if_empty(store: SqlOrderConnector, *, today: date) -> int:
    """Fill an empty orders table with the sample; returns how many orders were added."""
    if store.count() > 0:
        return 0
    counts = store.upsert_orders(sample_orders(today))
    logger.info("seeded %d sample orders", counts.inserted)
    return counts.inserted
