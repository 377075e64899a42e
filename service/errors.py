"""One place that turns errors into HTTP answers: clear 4xx messages, never a bare 500.

Domain code raises the ``models.errors`` family and never knows about HTTP; each class is
mapped to its status here, once. ``UnavailableError`` (a database, index or upstream that
is down for now) is 503 with ``Retry-After``, so clients retry instead of giving up.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from models.errors import (
    ArtifactError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TriageError,
    UnavailableError,
    UpstreamError,
)
from service.auth.auth_errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    UnprotectedExposureError,
)
from service.schemas import ErrorOut

logger = logging.getLogger(__name__)
#: Methods a 405's ``Allow`` header can name, in its order.
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

_STATUS_BY_ERROR: dict[type[TriageError], int] = {
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    UpstreamError: status.HTTP_502_BAD_GATEWAY,
    UnavailableError: status.HTTP_503_SERVICE_UNAVAILABLE,
    ArtifactError: status.HTTP_503_SERVICE_UNAVAILABLE,
    AuthenticationError: status.HTTP_401_UNAUTHORIZED,
    PermissionDeniedError: status.HTTP_403_FORBIDDEN,
    RateLimitedError: status.HTTP_429_TOO_MANY_REQUESTS,
    UnprotectedExposureError: status.HTTP_503_SERVICE_UNAVAILABLE,
}

#: The error answers every /v1 route may give, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not valid JSON."},
    401: {
        "model": ErrorOut,
        "description": "API keys exist and the request has none, or an unknown or revoked one.",
    },
    403: {"model": ErrorOut, "description": "The API key lacks the scope this route needs."},
    413: {"model": ErrorOut, "description": "The body is larger than `TRIAGE_MAX_BODY_BYTES`."},
    422: {"model": ErrorOut, "description": "A field is invalid; `errors` names each one."},
    429: {
        "model": ErrorOut,
        "description": "The API key is over its rate, or this address failed authentication "
        "too often. Retry after the `Retry-After` seconds.",
        "headers": {"Retry-After": {"description": "Seconds to wait before retrying."}},
    },
    503: {
        "model": ErrorOut,
        "description": "A database, index or upstream service is down for now; nothing was "
        "recorded. Retry after the `Retry-After` seconds.",
        "headers": {"Retry-After": {"description": "Seconds to wait before retrying."}},
    },
}


#: The error answers only some routes give: each route names its own with
#: :func:`error_responses`, so the OpenAPI schema lists every status an operation returns.
_ROUTE_ERRORS: dict[int, dict[str, Any]] = {
    404: {
        "model": ErrorOut,
        "description": "The named document, revision, suggestion, message or job does not exist.",
    },
    409: {
        "model": ErrorOut,
        "description": "The same id was already recorded with other details.",
    },
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the route-specific error ``statuses`` (404, 409)."""
    return {code: _ROUTE_ERRORS[code] for code in statuses}


#: The 503 of ``/readyz``.
NOT_READY_RESPONSE: dict[str, Any] = {
    "model": ErrorOut,
    "description": "A dependency (the database) is down or did not answer in time; "
    "`detail` names it.",
    "headers": {"Retry-After": {"description": "Seconds to wait before asking again."}},
}


def error_body(
    code: str, message: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON shape of every error: ``detail`` is a sentence a person can act on."""
    body: dict[str, Any] = {"detail": message, "code": code}
    if errors:
        body["errors"] = errors
    return body


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if rest and where == "body" else ".".join([where, *rest])
    return ".".join(parts)


def status_for(exc: TriageError) -> int:
    """HTTP status of a domain error: the nearest registered base class wins."""
    for cls in type(exc).__mro__:
        if cls in _STATUS_BY_ERROR:
            return _STATUS_BY_ERROR[cls]
    return status.HTTP_400_BAD_REQUEST


def _headers(exc: TriageError) -> dict[str, str] | None:
    """``Retry-After`` for 503 and 429 (whole seconds, at least 1), ``WWW-Authenticate``
    for 401."""
    if isinstance(exc, UnavailableError | RateLimitedError):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": "Bearer"}
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                ctx = err.get("ctx") or {}
                return JSONResponse(
                    status_code=status.HTTP_400_BAD_REQUEST,
                    content=error_body(
                        "invalid_json",
                        f"request body is not valid JSON: {ctx.get('error', 'parse error')}",
                    ),
                )
            field = _field_path(err.get("loc", ()))
            errors.append({"field": field or "body", "message": err.get("msg", "invalid")})
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content=error_body("validation_error", message, errors),
        )

    @app.exception_handler(TriageError)
    async def _domain(request: Request, exc: TriageError) -> JSONResponse:
        code = status_for(exc)
        if code >= 500:
            logger.warning("%s on %s: %s", exc.code, request.url.path, exc)
        headers = _headers(exc)
        field = exc.field if isinstance(exc, InvalidInputError) else None
        errors = [{"field": field, "message": str(exc)}] if field else None
        return JSONResponse(
            status_code=code, content=error_body(exc.code, str(exc), errors), headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = getattr(exc, "headers", None)
        allow = (
            allowed_methods(request)
            if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED
            else None
        )
        if allow is not None:
            headers = {**(headers or {}), "Allow": allow}
        return JSONResponse(
            status_code=exc.status_code,
            content=error_body(code, str(exc.detail)),
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Last resort: a bug. Log it with the trace, answer without internals.
        logger.exception("unhandled error on %s", request.url.path)
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content=error_body("internal_error", "internal error; the incident was logged"),
        )


def allowed_methods(request: Request) -> str | None:
    """The ``Allow`` header of a 405: every method some route accepts on this path.

    RFC 9110 asks a 405 to list all of them; Starlette lists only those of the first route
    whose path matched (``/v1/kb/documents/{id}`` has a GET, a PUT and a DELETE route, and
    a 405 named only one of them). Each method is tried against the app's routes with their
    public ``matches``; mounted apps (the console's static files) answer for themselves."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed) or None
