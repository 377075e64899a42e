"""Picks the order connector ``TRIAGE_ORDERS_CONNECTOR`` names.

Each name maps to the module and factory function that build it; the module is imported
only when its name is chosen (the HTTP client is not loaded for the embedded table), and
the protocol module (``order_connector``) never imports an implementation. A new
connector is one more module with a ``build_*(settings, database)`` function and one
entry here plus its name in ``settings.OrderConnectorName``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from service.database import Database
from service.orders.order_connector import OrderConnector
from service.settings import OrderConnectorName, Settings

ConnectorFactory = Callable[[Settings, Database], OrderConnector]

#: Connector name → ``module:factory``; the factory takes the settings and the database.
CONNECTOR_FACTORIES: Mapping[OrderConnectorName, str] = {
    "sql": "service.orders.sql_order_connector:build_sql_connector",
    "http": "service.orders.http_order_connector:build_http_connector",
}


def build_order_connector(settings: Settings, database: Database) -> OrderConnector:
    """The connector ``settings.orders_connector`` names.

    Raises:
        OrderConfigError: its settings do not describe a usable connector.
    """
    module_name, _, attribute = CONNECTOR_FACTORIES[settings.orders_connector].partition(":")
    factory: ConnectorFactory = getattr(importlib.import_module(module_name), attribute)
    return factory(settings, database)
