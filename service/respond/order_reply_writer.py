"""Auto-reply texts about orders: one template per status, dates in words, no loose slots.

Each status body is a list of slots; a slot lists alternative sentences, best first,
and the first one whose fields are all known is used (an empty alternative means the
slot may be left out). So an order without a carrier or tracking link still reads
naturally, and no sentence is ever sent with a hole in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from string import Template
from zoneinfo import ZoneInfo

from service.orders.order import Order, OrderStatus

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_LEFTOVER = re.compile(r"\$\{?\w|\{\{|\}\}")
_UNSAFE_NAME = re.compile(r"[${}<>]")
_ENDS_WITH_URL = re.compile(r"https?://\S+$")

Slot = tuple[str, ...]

_TRACKING: Slot = (
    "You can follow it here: $tracking_url (tracking number $tracking_number).",
    "You can follow it here: $tracking_url",
    "Your tracking number is $tracking_number.",
    "",
)
_LATE: Slot = (
    "It was expected $eta_past_when, so it is running late, and I'm sorry about that. "
    "If it hasn't arrived within two working days, reply to this message and we'll look "
    "into it with $carrier.",
    "It was expected $eta_past_when, so it is running late, and I'm sorry about that. "
    "If it hasn't arrived within two working days, reply to this message and we'll look "
    "into it with the carrier.",
    "",
)

_BODIES: Mapping[OrderStatus, tuple[Slot, ...]] = {
    OrderStatus.PROCESSING: (
        (
            "Thanks for your order $order_id, placed $placed_when.",
            "Thanks for your order $order_id.",
        ),
        ("We're preparing it in our warehouse now, so it hasn't shipped yet.",),
        ("We expect it to reach you $eta_when.", ""),
        ("As soon as it's on its way, we'll email you a tracking link.",),
    ),
    OrderStatus.SHIPPED: (
        (
            "Good news: your order $order_id left our warehouse $shipped_when and is now "
            "with $carrier.",
            "Good news: your order $order_id has left our warehouse and is now with $carrier.",
            "Good news: your order $order_id has left our warehouse.",
        ),
        ("It should arrive $eta_when.", ""),
        _LATE,
        _TRACKING,
    ),
    OrderStatus.IN_TRANSIT: (
        (
            "Your order $order_id is on its way with $carrier and should arrive $eta_when.",
            "Your order $order_id is on its way and should arrive $eta_when.",
            "Your order $order_id is on its way with $carrier.",
            "Your order $order_id is on its way.",
        ),
        _LATE,
        _TRACKING,
    ),
    OrderStatus.OUT_FOR_DELIVERY: (
        (
            "Good news: your order $order_id is out for delivery with $carrier today, so it "
            "should reach you later today.",
            "Good news: your order $order_id is out for delivery today, so it should reach "
            "you later today.",
        ),
        (
            "You can follow the driver's progress here: $tracking_url",
            "Your tracking number is $tracking_number.",
            "",
        ),
    ),
    OrderStatus.DELIVERED: (
        (
            "Our records show that your order $order_id was delivered $delivered_when.",
            "Our records show that your order $order_id has been delivered.",
        ),
        ("The delivery details are on the tracking page: $tracking_url", ""),
        (
            "If you can't find it, it's worth checking with neighbours or any safe place the "
            "driver may have used. If it still hasn't turned up, reply to this message and "
            "we'll look into it with $carrier straight away.",
            "If you can't find it, it's worth checking with neighbours or any safe place the "
            "driver may have used. If it still hasn't turned up, reply to this message and "
            "we'll look into it straight away.",
        ),
    ),
    OrderStatus.DELAYED: (
        ("I'm sorry, your order $order_id is running later than we planned.",),
        (
            "$carrier now expects to deliver it $eta_when.",
            "It should now arrive $eta_when.",
            "We don't have a new delivery date yet; we'll let you know as soon as we do.",
        ),
        _TRACKING,
        ("Thank you for your patience.",),
    ),
    OrderStatus.CANCELLED: (
        ("Your order $order_id was cancelled, so it won't be sent out.",),
        (
            "If you didn't ask for this, or you'd like to know where a refund stands, reply "
            "to this message and one of our team will look into it.",
        ),
    ),
    OrderStatus.RETURNED: (
        ("Your order $order_id is registered as returned to us.",),
        (
            "If you're waiting for a refund for it, reply to this message and we'll check "
            "where it stands.",
        ),
    ),
}


def day_in_words(day: date) -> str:
    """``Thursday 26 November`` (English, whatever the process locale)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def when_in_words(day: date, *, today: date) -> str:
    """A day as it fits after a verb: ``today``, ``tomorrow, Friday 27 November``,
    ``on Thursday 26 November`` (with the year when it is not this year's)."""
    words = day_in_words(day)
    if day.year != today.year:
        words = f"{words} {day.year}"
    offset = (day - today).days
    if offset == 0:
        return "today"
    if offset == 1:
        return f"tomorrow, {words}"
    if offset == -1:
        return f"yesterday, {words}"
    return f"on {words}"


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    cleaned = _UNSAFE_NAME.sub("", name).strip()
    return cleaned[:60] or None


def _fill(slot: Slot, values: Mapping[str, str]) -> str:
    for template in slot:
        compiled = Template(template)
        if all(k in values for k in compiled.get_identifiers()):
            return compiled.substitute(values)
    raise ValueError(f"no alternative of {slot[0]!r} can be filled")


def _paragraphs(sentences: Iterable[str]) -> list[str]:
    """Sentences joined into paragraphs; a sentence ending in a link ends its paragraph,
    so the link stands alone and stays clickable."""
    paragraphs: list[list[str]] = [[]]
    for sentence in sentences:
        paragraphs[-1].append(sentence)
        if _ENDS_WITH_URL.search(sentence):
            paragraphs.append([])
    return [" ".join(p) for p in paragraphs if p]


@dataclass(frozen=True)
class OrderReplyWriter:
    """Writes the customer-facing texts of order auto-replies."""

    signature: str = "The Customer Care team"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()

    def order_values(self, order: Order, *, today: date) -> dict[str, str]:
        """Every field the templates may use that this order has."""
        values = {
            "order_id": order.id,
            "placed_when": when_in_words(self._local_day(order.placed_at), today=today),
        }
        optional = {
            "carrier": order.carrier,
            "tracking_url": order.tracking_url,
            "tracking_number": order.tracking_number,
        }
        values.update({k: v for k, v in optional.items() if v})
        if order.shipped_at is not None:
            values["shipped_when"] = when_in_words(self._local_day(order.shipped_at), today=today)
        if order.delivered_at is not None:
            values["delivered_when"] = when_in_words(
                self._local_day(order.delivered_at), today=today
            )
        if order.estimated_delivery is not None:
            key = "eta_when" if order.estimated_delivery >= today else "eta_past_when"
            values[key] = when_in_words(order.estimated_delivery, today=today)
        return values

    def _letter(self, name: str | None, paragraphs: Sequence[str]) -> str:
        greeting = f"Hi {name}," if name else "Hello,"
        closing = "If there's anything else I can help with, just reply to this message."
        text = "\n\n".join([greeting, *paragraphs, closing, f"Best wishes,\n{self.signature}"])
        if _LEFTOVER.search(text):
            raise ValueError("reply text still holds a placeholder")
        return text

    def order_status(self, order: Order, *, name: str | None, today: date) -> str:
        """The full reply about one order, for a private channel."""
        values = self.order_values(order, today=today)
        sentences = [_fill(slot, values) for slot in _BODIES[order.status]]
        return self._letter(_clean_name(name), _paragraphs(s for s in sentences if s))

    def which_order(self, orders: Sequence[Order], *, name: str | None, today: date) -> str:
        """Ask which of several open orders the customer means."""
        lines = []
        for order in orders:
            placed = when_in_words(self._local_day(order.placed_at), today=today)
            items = ", ".join(i.name for i in order.items[:2])
            lines.append(f"- order {order.id}, placed {placed}" + (f" ({items})" if items else ""))
        intro = "I can see more than one open order on your account:"
        question = "Which one would you like an update on? Just reply with the order number."
        return self._letter(_clean_name(name), [intro + "\n" + "\n".join(lines), question])

    def private_channel_invite(self, *, name: str | None) -> str:
        """A public-channel reply: no order details, an invitation to a private message."""
        greeting = f"Hi {_clean_name(name)}, thanks" if _clean_name(name) else "Thanks"
        text = (
            f"{greeting} for getting in touch! To keep your order details private, please send "
            "us a direct message and we'll give you a full update there."
        )
        if _LEFTOVER.search(text):
            raise ValueError("reply text still holds a placeholder")
        return text
