"""Auto-reply templates: one per status, dates in words, tracking link, no loose placeholders."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.orders.order import Order, OrderItem, OrderStatus
from service.respond.order_reply_writer import OrderReplyWriter, day_in_words, when_in_words

TODAY = date(2026, 11, 22)
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{[a-z_]+\}|\$\{?[A-Za-z_]|\bNone\b|\[\w+\]")

FULL = Order(
    id="4411829",
    status=OrderStatus.IN_TRANSIT,
    placed_at=datetime(2026, 11, 19, 9, 12, tzinfo=UTC),
    customer_id="C-1001",
    customer_email="jane@example.com",
    carrier="ParcelPoint",
    tracking_number="PP7730194412",
    tracking_url="https://track.parcelpoint.example/t/PP7730194412",
    shipped_at=datetime(2026, 11, 20, 16, 40, tzinfo=UTC),
    estimated_delivery=date(2026, 11, 26),
    items=(OrderItem("Ceramic teapot", 1),),
)
BARE = Order(
    id="4411901",
    status=OrderStatus.PROCESSING,
    placed_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    customer_email="omar@example.com",
)

# What each status reply must say, beyond the order number.
EXPECTED = {
    OrderStatus.PROCESSING: ["hasn't shipped yet", "placed on Thursday 19 November"],
    OrderStatus.SHIPPED: ["left our warehouse on Friday 20 November", FULL.tracking_url],
    OrderStatus.IN_TRANSIT: [
        "on its way with ParcelPoint",
        "on Thursday 26 November",
        FULL.tracking_url,
    ],
    OrderStatus.OUT_FOR_DELIVERY: ["out for delivery", "later today", FULL.tracking_url],
    OrderStatus.DELIVERED: ["was delivered yesterday, Saturday 21 November", FULL.tracking_url],
    OrderStatus.DELAYED: [
        "I'm sorry",
        "ParcelPoint now expects to deliver it on Thursday 26 November",
    ],
    OrderStatus.CANCELLED: ["was cancelled", "won't be sent out"],
    OrderStatus.RETURNED: ["returned to us", "refund"],
}


def _as(status: OrderStatus, order: Order = FULL) -> Order:
    delivered = (
        datetime(2026, 11, 21, 11, 5, tzinfo=UTC) if status is OrderStatus.DELIVERED else None
    )
    return replace(order, status=status, delivered_at=delivered)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_every_status_has_a_complete_reply(status: OrderStatus) -> None:
    text = OrderReplyWriter().order_status(_as(status), name="Jane", today=TODAY)
    assert text.startswith("Hi Jane,\n\n")
    assert "order 4411829" in text
    for phrase in EXPECTED[status]:
        assert phrase in text
    assert not PLACEHOLDER.search(text), text
    assert text.rstrip().endswith("The Customer Care team")


@pytest.mark.parametrize("status", list(OrderStatus))
def test_reply_without_optional_fields_still_reads_whole(status: OrderStatus) -> None:
    text = OrderReplyWriter().order_status(_as(status, BARE), name=None, today=TODAY)
    assert text.startswith("Hello,\n\n")
    assert "order 4411901" in text
    assert not PLACEHOLDER.search(text), text
    assert "  " not in text and " ." not in text


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT])
def test_overdue_delivery_apologises_instead_of_promising_a_past_date(status: OrderStatus) -> None:
    late = replace(FULL, status=status, estimated_delivery=TODAY - timedelta(days=2))
    text = OrderReplyWriter().order_status(late, name="Jane", today=TODAY)
    assert "was expected on Friday 20 November, so it is running late" in text
    assert "should arrive" not in text


def test_several_open_orders_are_listed_with_a_question() -> None:
    other = replace(BARE, items=(OrderItem("Merino wool scarf", 1),))
    text = OrderReplyWriter().which_order([FULL, other], name="Omar", today=TODAY)
    assert "- order 4411829, placed on Thursday 19 November (Ceramic teapot)" in text
    assert "- order 4411901, placed yesterday, Saturday 21 November (Merino wool scarf)" in text
    assert "Which one" in text
    assert not PLACEHOLDER.search(text)


def test_public_channel_invite_holds_no_order_details() -> None:
    text = OrderReplyWriter().private_channel_invite(name="Jane")
    assert text.startswith("Hi Jane, thanks")
    assert "direct message" in text
    assert not re.search(r"\d", text)


def test_name_cannot_smuggle_in_placeholders() -> None:
    text = OrderReplyWriter().order_status(FULL, name="{{first_name}} ${x}", today=TODAY)
    assert not PLACEHOLDER.search(text)


def test_signature_comes_from_the_writer() -> None:
    text = OrderReplyWriter(signature="Ana from Acme").order_status(FULL, name=None, today=TODAY)
    assert text.endswith("Best wishes,\nAna from Acme")


def test_dates_are_words_relative_to_today() -> None:
    assert day_in_words(date(2026, 11, 26)) == "Thursday 26 November"
    assert when_in_words(TODAY, today=TODAY) == "today"
    assert when_in_words(date(2026, 11, 23), today=TODAY) == "tomorrow, Monday 23 November"
    assert when_in_words(date(2026, 11, 26), today=TODAY) == "on Thursday 26 November"
    assert when_in_words(date(2027, 1, 4), today=TODAY) == "on Monday 4 January 2027"


def test_dates_follow_the_shop_time_zone() -> None:
    # 23:30 UTC on the 20th is already the 21st in Berlin.
    late_evening = replace(
        FULL, status=OrderStatus.SHIPPED, shipped_at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    )
    berlin = OrderReplyWriter(timezone=ZoneInfo("Europe/Berlin"))
    assert "left our warehouse yesterday, Saturday 21 November" in berlin.order_status(
        late_evening, name=None, today=TODAY
    )
