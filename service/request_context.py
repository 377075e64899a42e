"""ASGI middleware: a request id for every request (the client's ``X-Request-ID`` when it
is sane, else a new one), echoed in the response and set on every log record, and one
INFO log line per request (method, route, status, duration; never a body)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from service.logging_config import request_id_var
from service.random_ids import new_hex_id

logger = logging.getLogger("service.requests")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = b"x-request-id"
#: What a client may send as its id; anything else (log injection, huge values) is
#: replaced by a fresh id.
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's id when it is sane, else a new random one."""
    for name, value in scope.get("headers", []):
        if name == HEADER:
            text = value.decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
            break
    return new_hex_id()


def route_of(scope: Scope) -> str:
    """The matched route's template (``/v1/kb/documents/{doc_id:path}``), or ``unmatched``:
    a bounded label for logs and metrics, never the raw path.

    FastAPI from 0.16x keeps an included router's routes unprefixed in ``scope["route"]``
    and records the effective (prefixed) route in ``scope["fastapi"]``; older versions put
    the prefixed route in ``scope["route"]``.
    """
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    for candidate in (context, scope.get("route")):
        path = getattr(candidate, "path", None)
        if isinstance(path, str) and path:
            return path
    return "unmatched"


class RequestObserver(Protocol):
    """Told about every answered request (``ServiceMetrics.observe_request``)."""

    def __call__(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Record one request."""
        ...


class RequestContextMiddleware:
    """Sets the request id, logs one line per HTTP request and tells the observer."""

    def __init__(self, app: ASGIApp, *, observe: RequestObserver | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        id_token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            principal = scope.get("state", {}).get("principal_name") or "-"
            method, route = str(scope.get("method", "-")), route_of(scope)
            logger.info(
                "%s %s %s %.1f ms",
                method,
                route,
                status,
                seconds * 1000.0,
                extra={"principal": principal},
            )
            if self.observe is not None:
                self.observe(route=route, method=method, status=status, seconds=seconds)
            request_id_var.reset(id_token)
