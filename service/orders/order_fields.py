"""Turn loosely typed order fields (CSV cells, JSON values) into an ``Order``.

Shared by the importer and the HTTP connector, so a date or an item list means the
same thing whichever way an order arrives. Errors name the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from models.entity_extractor import EMAIL_ADDRESS
from service.orders.order import Order, OrderItem, OrderStatus

ORDER_COLUMNS: tuple[str, ...] = (
    "order_id",
    "customer_id",
    "customer_email",
    "status",
    "carrier",
    "tracking_number",
    "tracking_url",
    "placed_at",
    "shipped_at",
    "estimated_delivery",
    "delivered_at",
    "items",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("order_id", "status", "placed_at")

_LIMITS = {
    "order_id": 64,
    "customer_id": 128,
    "customer_email": 320,
    "carrier": 128,
    "tracking_number": 128,
    "tracking_url": 2048,
}
_ITEM_WITH_COUNT = re.compile(r"^\s*(\d{1,4})\s*[x×]\s*(.+?)\s*$", re.IGNORECASE)
_STATUSES = ", ".join(s.value for s in OrderStatus)


class OrderFieldError(ValueError):
    """One field of an order is missing or unreadable."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _text(values: Mapping[str, Any], name: str) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise OrderFieldError(name, f"expected text, got {type(raw).__name__}")
    text = str(raw).strip()
    if not text:
        return None
    limit = _LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise OrderFieldError(name, f"longer than {limit} characters")
    return text


def parse_status(raw: str, *, aliases: Mapping[str, str] | None = None) -> OrderStatus:
    """``"In transit"``, ``"in-transit"`` and ``"IN_TRANSIT"`` are all ``in_transit``."""
    key = re.sub(r"[\s\-]+", "_", raw.strip().lower())
    if aliases:
        lowered = {re.sub(r"[\s\-]+", "_", k.strip().lower()): v for k, v in aliases.items()}
        key = lowered.get(key, key)
    try:
        return OrderStatus(key)
    except ValueError:
        raise OrderFieldError("status", f"{raw!r} is not one of {_STATUSES}") from None


def parse_datetime(name: str, raw: Any) -> datetime | None:
    """ISO-8601 date or datetime (naive means UTC), or Unix seconds; blank is ``None``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise OrderFieldError(name, "expected a date, got a boolean")
    if isinstance(raw, int | float):
        try:
            return datetime.fromtimestamp(raw, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise OrderFieldError(name, f"{raw!r} is not a valid Unix time") from None
    if not isinstance(raw, str):
        raise OrderFieldError(name, f"expected a date, got {type(raw).__name__}")
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise OrderFieldError(
            name, f"{text!r} is not an ISO-8601 date or datetime (e.g. 2026-11-20T14:05:00Z)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_date(name: str, raw: Any) -> date | None:
    """A calendar date; a datetime counts as its (UTC) date."""
    if isinstance(raw, str) and len(raw.strip()) == 10:
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise OrderFieldError(name, f"{raw.strip()!r} is not a date (YYYY-MM-DD)") from None
    value = parse_datetime(name, raw)
    return value.astimezone(UTC).date() if value is not None else None


def _item(raw: Any, index: int) -> OrderItem:
    where = f"items[{index}]"
    if isinstance(raw, str):
        match = _ITEM_WITH_COUNT.match(raw)
        name, quantity = (match.group(2), int(match.group(1))) if match else (raw.strip(), 1)
        if not name:
            raise OrderFieldError(where, "empty item")
        return OrderItem(name=name, quantity=quantity)
    if not isinstance(raw, Mapping):
        raise OrderFieldError(where, "expected an object or a text")
    name = raw.get("name", raw.get("title"))
    if not isinstance(name, str) or not name.strip():
        raise OrderFieldError(where, "needs a non-empty 'name'")
    quantity = raw.get("quantity", raw.get("qty", 1))
    if isinstance(quantity, bool) or not isinstance(quantity, int | str):
        raise OrderFieldError(where, "'quantity' must be a whole number")
    try:
        count = int(quantity)
    except ValueError:
        raise OrderFieldError(where, f"'quantity' {quantity!r} is not a whole number") from None
    if not 1 <= count <= 10_000:
        raise OrderFieldError(where, "'quantity' must be between 1 and 10000")
    sku = raw.get("sku")
    return OrderItem(name=name.strip(), quantity=count, sku=str(sku) if sku else None)


def parse_items(raw: Any) -> tuple[OrderItem, ...]:
    """A JSON list (of objects or texts), a JSON text of one, or ``"2 x Mug; 1 x Towel"``."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return ()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise OrderFieldError("items", f"not valid JSON ({exc.msg})") from None
        else:
            raw = [part for part in re.split(r"[;|]", text) if part.strip()]
    if not isinstance(raw, list):
        raise OrderFieldError("items", "expected a list")
    return tuple(_item(entry, i) for i, entry in enumerate(raw))


def order_from_fields(
    values: Mapping[str, Any], *, status_aliases: Mapping[str, str] | None = None
) -> Order:
    """Build an ``Order`` from the ``ORDER_COLUMNS`` fields.

    Raises:
        OrderFieldError: naming the first field that is missing or malformed.
    """
    for name in REQUIRED_COLUMNS:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise OrderFieldError(name, "is required")
    order_id = _text(values, "order_id")
    status_text = _text(values, "status")
    assert order_id is not None and status_text is not None
    customer_id = _text(values, "customer_id")
    email = _text(values, "customer_email")
    if email is not None and not EMAIL_ADDRESS.fullmatch(email):
        raise OrderFieldError("customer_email", f"{email!r} is not an e-mail address")
    if customer_id is None and email is None:
        raise OrderFieldError(
            "customer_id", "an order needs customer_id or customer_email (or both)"
        )
    url = _text(values, "tracking_url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise OrderFieldError("tracking_url", f"{url!r} is not an http(s) URL")
    placed_at = parse_datetime("placed_at", values.get("placed_at"))
    assert placed_at is not None
    shipped_at = parse_datetime("shipped_at", values.get("shipped_at"))
    delivered_at = parse_datetime("delivered_at", values.get("delivered_at"))
    if shipped_at is not None and shipped_at < placed_at:
        raise OrderFieldError("shipped_at", "is before placed_at")
    if delivered_at is not None and delivered_at < placed_at:
        raise OrderFieldError("delivered_at", "is before placed_at")
    return Order(
        id=order_id,
        status=parse_status(status_text, aliases=status_aliases),
        placed_at=placed_at,
        customer_id=customer_id,
        customer_email=email,
        carrier=_text(values, "carrier"),
        tracking_number=_text(values, "tracking_number"),
        tracking_url=url,
        shipped_at=shipped_at,
        estimated_delivery=parse_date("estimated_delivery", values.get("estimated_delivery")),
        delivered_at=delivered_at,
        items=parse_items(values.get("items")),
    )
