"""Connectors are chosen by name from settings; a misconfiguration stops startup clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from service.database import Database
from service.orders.http_order_connector import HttpOrderConnector
from service.orders.order_connector import OrderConfigError, OrderConnector
from service.orders.order_connector_factory import CONNECTOR_FACTORIES, build_order_connector
from service.orders.sql_order_connector import SqlOrderConnector
from service.settings import OrderConnectorName, Settings
from tests.fixtures.order_api_server import running_order_api


def test_every_connector_name_the_settings_accept_has_a_factory() -> None:
    assert set(CONNECTOR_FACTORIES) == set(get_args(OrderConnectorName))
    assert {"sql", "http"} <= set(CONNECTOR_FACTORIES)


def test_default_is_the_embedded_table(tmp_path: Path, sqlite_database: Database) -> None:
    connector = build_order_connector(Settings(data_dir=tmp_path), sqlite_database)
    assert isinstance(connector, SqlOrderConnector)
    assert isinstance(connector, OrderConnector)
    assert connector.name == "sql:sqlite"


def test_http_connector_is_configured_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_database: Database
) -> None:
    order = {
        "number": "77",
        "mail": "jane@example.com",
        "state": "sent",
        "created": "2026-11-19T09:00:00Z",
    }
    with running_order_api({"77": order}) as api:
        monkeypatch.setenv("TRIAGE_ORDERS_CONNECTOR", "http")
        monkeypatch.setenv("TRIAGE_ORDERS_HTTP_ORDER_URL", api.base_url + "/orders/{order_id}")
        monkeypatch.setenv(
            "TRIAGE_ORDERS_HTTP_FIELD_MAP",
            json.dumps(
                {
                    "order_id": "number",
                    "customer_email": "mail",
                    "status": "state",
                    "placed_at": "created",
                }
            ),
        )
        monkeypatch.setenv("TRIAGE_ORDERS_HTTP_STATUS_MAP", '{"sent": "shipped"}')
        monkeypatch.setenv("TRIAGE_ORDERS_HTTP_ORDER_ROOT", "data")
        monkeypatch.setenv("TRIAGE_ORDERS_HTTP_AUTH_HEADER", "X-Api-Key")
        monkeypatch.setenv("TRIAGE_ORDERS_HTTP_AUTH_VALUE", "k-123")
        settings = Settings(data_dir=tmp_path)
        assert "k-123" not in repr(settings)
        connector = build_order_connector(settings, sqlite_database)
        try:
            assert isinstance(connector, HttpOrderConnector)
            assert connector.name == "http:127.0.0.1"
            fetched = connector.get_order("77")
            assert fetched is not None and fetched.status.value == "shipped"
            assert api.requests[-1][1]["X-Api-Key"] == "k-123"
        finally:
            connector.close()


def test_http_without_url_is_refused(tmp_path: Path, sqlite_database: Database) -> None:
    with pytest.raises(OrderConfigError, match="TRIAGE_ORDERS_HTTP_ORDER_URL is not set"):
        build_order_connector(Settings(data_dir=tmp_path, orders_connector="http"), sqlite_database)


def test_unknown_connector_name_is_refused_by_the_settings_naming_the_known_ones(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValidationError, match="orders_connector") as caught:
        Settings(data_dir=tmp_path, orders_connector="shopify")  # type: ignore[arg-type]
    assert "'sql'" in str(caught.value) and "'http'" in str(caught.value)
