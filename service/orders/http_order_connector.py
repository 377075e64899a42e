"""Orders from the shop's own HTTP API: URL templates, field mapping, retries, a breaker."""

from __future__ import annotations

import logging
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from service.database import Database
from service.orders.circuit_breaker import CircuitBreaker
from service.orders.customer_identity import CustomerIdentity
from service.orders.order import Order
from service.orders.order_connector import (
    MalformedOrderError,
    OrderConfigError,
    OrderConnectorError,
    OrderConnectorTimeoutError,
)
from service.orders.order_fields import ORDER_COLUMNS, OrderFieldError, order_from_fields
from service.settings import Settings

logger = logging.getLogger(__name__)

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def _placeholders(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise OrderConfigError(f"URL template {template!r} is malformed ({exc})") from exc


def _at_path(document: Any, path: str) -> Any:
    """Value at a dotted path (``"shipment.tracking.url"``); ``None`` when absent."""
    if not path:
        return document
    value = document
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True)
class HttpOrderApiConfig:
    """How to call the shop's order API and read its answers.

    Attributes:
        order_url: template with ``{order_id}``, e.g. ``https://shop/api/orders/{order_id}``.
        customer_orders_url: template with ``{customer_id}`` and/or ``{email}``; ``None``
            when the API cannot list a customer's orders.
        field_map: order column (``ORDER_COLUMNS``) to dotted JSON path in one order
            object; unmapped columns are read under their own name.
        order_root: dotted path of the order object in the single-order answer ("" = body).
        orders_root: dotted path of the list in the customer-orders answer ("" = body).
        status_map: the shop's status words to ours (``{"on its way": "in_transit"}``).
    """

    order_url: str
    customer_orders_url: str | None = None
    auth_header: str = "Authorization"
    auth_value: str | None = field(default=None, repr=False)
    field_map: Mapping[str, str] = field(default_factory=dict)
    status_map: Mapping[str, str] = field(default_factory=dict)
    order_root: str = ""
    orders_root: str = "orders"
    timeout_s: float = 3.0
    max_retries: int = 2
    backoff_s: float = 0.2
    backoff_max_s: float = 2.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0

    def __post_init__(self) -> None:
        if "order_id" not in _placeholders(self.order_url):
            raise OrderConfigError(f"order URL template {self.order_url!r} lacks {{order_id}}")
        unknown = _placeholders(self.order_url) - {"order_id"}
        if unknown:
            raise OrderConfigError(f"order URL template has unknown placeholders {unknown}")
        if self.customer_orders_url is not None:
            names = _placeholders(self.customer_orders_url)
            if not names & {"customer_id", "email"} or names - {"customer_id", "email"}:
                raise OrderConfigError(
                    "customer orders URL template must use {customer_id} and/or {email} only"
                )
        bad = set(self.field_map) - set(ORDER_COLUMNS)
        if bad:
            raise OrderConfigError(
                f"field map names unknown order fields {sorted(bad)}; "
                f"known: {', '.join(ORDER_COLUMNS)}"
            )
        if self.timeout_s <= 0 or self.max_retries < 0 or self.backoff_s < 0:
            raise OrderConfigError("timeout must be positive, retries and backoff not negative")


class HttpOrderConnector:
    """Looks orders up in the shop's API.

    Timeouts, connection errors, 429 and 5xx are retried with exponential backoff; a
    404 means "no such order". Each lookup (after its retries) counts once for the
    circuit breaker. Every failure surfaces as an ``OrderConnectorError`` subclass.
    """

    def __init__(
        self,
        config: HttpOrderApiConfig,
        *,
        client: httpx.Client | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        headers = {"Accept": "application/json"}
        if config.auth_value:
            headers[config.auth_header] = config.auth_value
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(config.timeout_s), headers=headers, follow_redirects=False
        )
        self.breaker = breaker or CircuitBreaker(
            failure_threshold=config.breaker_failures,
            reset_after_s=config.breaker_reset_s,
            name="order API",
        )
        self._sleep = sleep

    @property
    def name(self) -> str:
        """``http:<host>``."""
        return f"http:{httpx.URL(self.config.order_url.replace('{order_id}', 'x')).host}"

    # -- public --------------------------------------------------------------------
    def get_order(self, order_id: str) -> Order | None:
        """The order, or ``None`` when the API answers 404."""
        url = self.config.order_url.format(order_id=quote(order_id, safe=""))
        body = self._call(url)
        if body is None:
            return None
        return self._order(_at_path(body, self.config.order_root), where="order")

    def recent_orders(self, customer: CustomerIdentity, *, limit: int) -> Sequence[Order]:
        """The customer's orders the API lists, newest first, ownership re-checked."""
        template = self.config.customer_orders_url
        if template is None or limit < 1:
            return []
        names = _placeholders(template)
        values = {"customer_id": customer.customer_id, "email": customer.normalised_email}
        if any(values[n] is None for n in names):
            return []  # the template needs an identifier this caller did not give
        url = template.format(**{n: quote(str(values[n]), safe="") for n in names})
        body = self._call(url)
        if body is None:
            return []
        listed = _at_path(body, self.config.orders_root)
        if not isinstance(listed, list):
            raise MalformedOrderError(
                f"order API: expected a list at {self.config.orders_root or 'the top level'}"
            )
        orders = [self._order(entry, where=f"orders[{i}]") for i, entry in enumerate(listed)]
        orders.sort(key=lambda o: o.placed_at, reverse=True)
        return [o for o in orders if customer.owns(o)][:limit]

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    # -- internals -----------------------------------------------------------------
    def _order(self, document: Any, *, where: str) -> Order:
        if not isinstance(document, Mapping):
            raise MalformedOrderError(f"order API: {where} is not a JSON object")
        mapping = {c: self.config.field_map.get(c, c) for c in ORDER_COLUMNS}
        values = {column: _at_path(document, path) for column, path in mapping.items()}
        try:
            return order_from_fields(values, status_aliases=self.config.status_map)
        except OrderFieldError as exc:
            path = mapping.get(exc.field.split("[")[0], exc.field)
            raise MalformedOrderError(
                f"order API: {where}.{path} ({exc.field}): {exc.message}"
            ) from exc

    def _call(self, url: str) -> Any:
        """GET ``url`` with retries, through the breaker; ``None`` on 404."""
        self.breaker.before_call()
        try:
            result = self._get_with_retries(url)
        except OrderConnectorError:
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result

    def _get_with_retries(self, url: str) -> Any:
        """GET with exponential backoff on timeouts, connection errors, 429 and 5xx."""
        config = self.config
        attempts = config.max_retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=config.backoff_s, max=config.backoff_max_s),
            retry=retry_if_exception_type(_TransientError),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(self._get_once, url, attempts)
        except _TransientError as exc:
            raise exc.error from exc.__cause__

    def _get_once(self, url: str, attempts: int) -> Any:
        """One GET: the JSON body, ``None`` on 404; a ``_TransientError`` when trying
        again may help."""
        try:
            response = self._client.get(url)
        except httpx.TimeoutException as exc:
            raise _TransientError(
                OrderConnectorTimeoutError(
                    f"order API did not answer within {self.config.timeout_s}s "
                    f"({attempts} attempts)"
                )
            ) from exc
        except httpx.TransportError as exc:
            raise _TransientError(OrderConnectorError(f"order API unreachable: {exc}")) from exc
        if response.status_code == 404:
            return None
        if response.status_code in _RETRYABLE_STATUS:
            raise _TransientError(
                OrderConnectorError(
                    f"order API answered {response.status_code} ({attempts} attempts)"
                )
            )
        if response.status_code >= 400:
            raise OrderConnectorError(
                f"order API answered {response.status_code}; check the URL and auth"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedOrderError("order API answered with invalid JSON") from exc


class _TransientError(Exception):
    """Internal: a failure worth retrying; ``error`` is raised when the retries run out."""

    def __init__(self, error: OrderConnectorError) -> None:
        super().__init__(str(error))
        self.error = error


def _log_retry(state: RetryCallState) -> None:
    logger.debug(
        "order API attempt %d failed; retrying in %.2fs",
        state.attempt_number,
        state.next_action.sleep if state.next_action is not None else 0.0,
    )


def build_http_connector(settings: Settings, database: Database) -> HttpOrderConnector:
    """``TRIAGE_ORDERS_CONNECTOR=http``: the shop's own order API (the database is unused)."""
    if not settings.orders_http_order_url:
        raise OrderConfigError(
            "orders_connector is 'http' but TRIAGE_ORDERS_HTTP_ORDER_URL is not set"
        )
    secret = settings.orders_http_auth_value
    config = HttpOrderApiConfig(
        order_url=settings.orders_http_order_url,
        customer_orders_url=settings.orders_http_customer_orders_url,
        auth_header=settings.orders_http_auth_header,
        auth_value=secret.get_secret_value() if secret is not None else None,
        field_map=settings.orders_http_field_map,
        status_map=settings.orders_http_status_map,
        order_root=settings.orders_http_order_root,
        orders_root=settings.orders_http_orders_root,
        timeout_s=settings.orders_http_timeout_s,
        max_retries=settings.orders_http_retries,
        backoff_s=settings.orders_http_backoff_s,
        breaker_failures=settings.orders_http_breaker_failures,
        breaker_reset_s=settings.orders_http_breaker_reset_s,
    )
    return HttpOrderConnector(config)
