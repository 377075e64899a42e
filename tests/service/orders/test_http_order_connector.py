"""The HTTP order connector against a real local server: mapping, auth, retries, failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.orders.circuit_breaker import BreakerState
from service.orders.customer_identity import CustomerIdentity
from service.orders.http_order_connector import HttpOrderApiConfig, HttpOrderConnector
from service.orders.order import OrderItem, OrderStatus
from service.orders.order_connector import (
    CircuitOpenError,
    MalformedOrderError,
    OrderConfigError,
    OrderConnectorError,
    OrderConnectorTimeoutError,
)
from tests.fixtures.order_api_server import OrderApiServer, running_order_api

TOKEN = "s3cret-token"
FIELD_MAP = {
    "order_id": "number",
    "customer_id": "buyer.id",
    "customer_email": "buyer.email",
    "status": "state",
    "carrier": "shipment.carrier",
    "tracking_number": "shipment.code",
    "tracking_url": "shipment.link",
    "placed_at": "created",
    "shipped_at": "shipment.sent",
    "estimated_delivery": "shipment.eta",
    "delivered_at": "shipment.delivered",
    "items": "lines",
}


def shop_order(
    number: str, email: str, state: str = "On its way", created: str = "2026-11-19T09:12:00Z"
) -> dict[str, Any]:
    """An order the way this (made-up) shop's API spells it."""
    return {
        "number": number,
        "buyer": {"id": f"C-{number}", "email": email},
        "state": state,
        "created": created,
        "shipment": {
            "carrier": "ParcelPoint",
            "code": f"PP{number}",
            "link": f"https://track.example/PP{number}",
            "sent": "2026-11-20T16:40:00Z",
            "eta": "2026-11-26",
            "delivered": None,
        },
        "lines": [{"title": "Ceramic teapot", "qty": 1}],
    }


ORDERS = {
    "4411829": shop_order("4411829", "Jane@Example.com"),
    "4411830": {
        **shop_order("4411830", "jane@example.com", "Awaiting dispatch", "2026-11-21T10:00:00Z"),
        "shipment": {"eta": "2026-11-27"},
    },
    "5000001": shop_order("5000001", "omar@example.com"),
    "5000002": {**shop_order("5000002", "omar@example.com"), "state": "teleported"},
}


@pytest.fixture
def server() -> Iterator[OrderApiServer]:
    with running_order_api(ORDERS, token=TOKEN) as api:
        yield api


def connector(server: OrderApiServer, **overrides: Any) -> HttpOrderConnector:
    settings: dict[str, Any] = {
        "order_url": server.base_url + "/orders/{order_id}",
        "customer_orders_url": server.base_url + "/orders?email={email}",
        "auth_header": "X-Api-Key",
        "auth_value": TOKEN,
        "field_map": FIELD_MAP,
        "status_map": {"On its way": "in_transit", "Awaiting dispatch": "processing"},
        "order_root": "data",
        "orders_root": "results",
        "timeout_s": 0.3,
        "max_retries": 2,
        "backoff_s": 0.01,
        "breaker_failures": 3,
        "breaker_reset_s": 60.0,
    }
    settings.update(overrides)
    return HttpOrderConnector(HttpOrderApiConfig(**settings))


def test_order_is_read_through_the_field_map(server: OrderApiServer) -> None:
    order = connector(server).get_order("4411829")
    assert order is not None
    assert order.id == "4411829"
    assert order.status is OrderStatus.IN_TRANSIT
    assert order.customer_email == "Jane@Example.com"
    assert order.tracking_url == "https://track.example/PP4411829"
    assert order.placed_at == datetime(2026, 11, 19, 9, 12, tzinfo=UTC)
    assert order.estimated_delivery == date(2026, 11, 26)
    assert order.items == (OrderItem("Ceramic teapot", 1),)
    path, headers = server.requests[-1]
    assert path == "/orders/4411829"
    assert headers["X-Api-Key"] == TOKEN


def test_order_id_is_escaped_into_the_url(server: OrderApiServer) -> None:
    assert connector(server).get_order("../admin?x=1") is None
    assert server.requests[-1][0] == "/orders/..%2Fadmin%3Fx%3D1"


def test_404_means_no_such_order(server: OrderApiServer) -> None:
    assert connector(server).get_order("999") is None


def test_customer_orders_are_listed_newest_first(server: OrderApiServer) -> None:
    jane = CustomerIdentity(email=" JANE@example.com ")
    orders = connector(server).recent_orders(jane, limit=10)
    assert [o.id for o in orders] == ["4411830", "4411829"]
    assert server.requests[-1][0] == "/orders?email=jane%40example.com"


def test_listing_needs_the_identifier_the_template_uses(server: OrderApiServer) -> None:
    assert connector(server).recent_orders(CustomerIdentity(id="C-4411829"), limit=10) == []
    assert server.requests == []


def test_wrong_credentials_are_an_error_not_a_missing_order(server: OrderApiServer) -> None:
    with pytest.raises(OrderConnectorError, match="401"):
        connector(server, auth_value="wrong").get_order("4411829")


def test_unknown_status_is_malformed_and_names_the_field(server: OrderApiServer) -> None:
    with pytest.raises(MalformedOrderError, match=r"order\.state \(status\): 'teleported'"):
        connector(server).get_order("5000002")


def test_non_json_reply_is_malformed(server: OrderApiServer) -> None:
    server.mode = "malformed"
    with pytest.raises(MalformedOrderError, match="invalid JSON"):
        connector(server).get_order("4411829")


def test_slow_server_times_out_after_retries(server: OrderApiServer) -> None:
    server.mode = "slow"
    with pytest.raises(OrderConnectorTimeoutError, match="3 attempts"):
        connector(server).get_order("4411829")
    assert len(server.requests) == 3


def test_5xx_is_retried_with_backoff_then_fails(server: OrderApiServer) -> None:
    server.mode = "error"
    pauses: list[float] = []
    api = HttpOrderConnector(connector(server).config, sleep=pauses.append)
    with pytest.raises(OrderConnectorError, match="503"):
        api.get_order("4411829")
    assert len(server.requests) == 3
    assert pauses == [0.01, 0.02]


def test_transient_5xx_recovers_within_the_retries(server: OrderApiServer) -> None:
    server.mode = "flaky"
    server.failures_left = 2
    order = connector(server).get_order("4411829")
    assert order is not None and order.id == "4411829"
    assert len(server.requests) == 3


def test_breaker_opens_and_stops_calling_a_failing_api(server: OrderApiServer) -> None:
    server.mode = "error"
    api = connector(server, max_retries=0)
    for _ in range(3):
        with pytest.raises(OrderConnectorError):
            api.get_order("4411829")
    assert api.breaker.state is BreakerState.OPEN
    calls = len(server.requests)
    server.mode = "ok"
    with pytest.raises(CircuitOpenError):
        api.get_order("4411829")
    assert len(server.requests) == calls


def test_unreachable_api_is_a_connector_error() -> None:
    with running_order_api({}) as gone:
        url = gone.base_url
    api = HttpOrderConnector(
        HttpOrderApiConfig(order_url=url + "/orders/{order_id}", max_retries=1, backoff_s=0.0)
    )
    with pytest.raises(OrderConnectorError, match="unreachable"):
        api.get_order("1")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"order_url": "http://shop/orders"}, "lacks {order_id}"),
        ({"order_url": "http://shop/{order_id}/{tenant}"}, "unknown placeholders"),
        ({"customer_orders_url": "http://shop/c/{user}"}, "customer_id} and/or {email"),
        ({"field_map": {"colour": "c"}}, "unknown order fields"),
        ({"timeout_s": 0}, "timeout must be positive"),
    ],
)
def test_config_mistakes_are_refused(overrides: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {"order_url": "http://shop/orders/{order_id}", **overrides}
    with pytest.raises(OrderConfigError, match=message):
        HttpOrderApiConfig(**settings)
