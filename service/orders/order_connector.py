"""The ``OrderConnector`` protocol, its errors, and the registry that picks one by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from models.errors import TriageError, UpstreamError
from service.orders.customer_identity import CustomerIdentity
from service.orders.order import Order

if TYPE_CHECKING:
    from service.database import Database
    from service.settings import Settings


@runtime_checkable
class OrderConnector(Protocol):
    """Where orders come from: the service's own table or the shop's order API."""

    @property
    def name(self) -> str:
        """Registry name plus whatever tells two configurations apart (for /readyz)."""
        ...

    def get_order(self, order_id: str) -> Order | None:
        """The order with this id, or ``None`` when the shop has no such order.

        Raises:
            OrderConnectorError: the source failed or answered nonsense.
        """
        ...

    def recent_orders(self, customer: CustomerIdentity, *, limit: int) -> Sequence[Order]:
        """The customer's latest orders, newest first (matched by id and/or e-mail)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class OrderConnectorError(UpstreamError):
    """The order source failed; the message goes to a human, never a 500."""

    code = "order_connector_error"
    #: Reason code the respond decision reports for this failure.
    reason = "order_lookup_failed"


class OrderConnectorTimeoutError(OrderConnectorError):
    """The order source did not answer in time (after retries)."""

    code = "order_connector_timeout"
    reason = "order_lookup_timeout"


class MalformedOrderError(OrderConnectorError):
    """The order source answered, but not with an order we can read."""

    code = "order_connector_malformed"
    reason = "order_lookup_malformed"


class CircuitOpenError(OrderConnectorError):
    """Recent calls failed; the source is given a rest before the next try."""

    code = "order_connector_circuit_open"
    reason = "order_lookup_unavailable"


class OrderConfigError(TriageError):
    """The order connector settings do not describe a usable connector."""

    code = "order_config_error"


ConnectorFactory = Callable[["Settings", "Database | None"], OrderConnector]

_REGISTRY: dict[str, ConnectorFactory] = {}


def register_connector(name: str) -> Callable[[ConnectorFactory], ConnectorFactory]:
    """Decorator: make a connector factory selectable by ``TRIAGE_ORDERS_CONNECTOR=name``."""

    def decorate(factory: ConnectorFactory) -> ConnectorFactory:
        _REGISTRY[name] = factory
        return factory

    return decorate


def connector_names() -> list[str]:
    """Registered connector names."""
    _load_builtin()
    return sorted(_REGISTRY)


def build_order_connector(settings: Settings, database: Database | None) -> OrderConnector:
    """The connector ``settings.orders_connector`` names."""
    _load_builtin()
    factory = _REGISTRY.get(settings.orders_connector)
    if factory is None:
        raise OrderConfigError(
            f"orders_connector {settings.orders_connector!r} is not one of "
            f"{', '.join(sorted(_REGISTRY))}"
        )
    return factory(settings, database)


def _load_builtin() -> None:
    # Importing the modules runs their @register_connector decorators.
    import service.orders.http_order_connector
    import service.orders.sql_order_connector  # noqa: F401
