"""The ``OrderConnector`` protocol and its errors.

This module never imports an implementation; ``order_connector_factory`` picks one by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from models.errors import TriageError, UpstreamError
from service.orders.customer_identity import CustomerIdentity
from service.orders.order import Order


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
