"""Errors of authentication, authorisation and rate limiting (one family with the domain
errors: ``service/errors.py`` maps each to its status once)."""

from __future__ import annotations

from models.errors import TriageError


class AuthenticationError(TriageError):
    """No key, or a key that is unknown or revoked (401)."""

    code = "unauthorized"


class PermissionDeniedError(TriageError):
    """The key is valid but lacks the scope the route needs (403)."""

    code = "forbidden"


class RateLimitedError(TriageError):
    """The key (or, for failed authentication, the client address) is over its rate (429).

    Args:
        message: who is limited and at what rate.
        retry_after_s: seconds until a request would be admitted again.
    """

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnprotectedExposureError(TriageError):
    """Asked to listen on a non-loopback address while no API key exists."""

    code = "unprotected_exposure"


class OpenAccessRefusedError(PermissionDeniedError):
    """No API key exists and the request arrived on a non-loopback address (403)."""

    code = "no_api_key_configured"


class LookupNeededError(Exception):
    """``AccessControl.admit(..., lookups=False)`` cannot answer from memory: the answer
    needs the database (key count, an uncached key) or Redis (rate limits). The caller asks
    again where blocking is allowed; never reaches a client."""
