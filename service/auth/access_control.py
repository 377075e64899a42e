"""Admitting a request: authenticate its key, then charge the key's rate limit; failed
attempts are charged to the client address, so guessing keys is slow."""

from __future__ import annotations

import logging
import math

from service.auth.auth_errors import (
    AuthenticationError,
    LookupNeededError,
    OpenAccessRefusedError,
    PermissionDeniedError,
    RateLimitedError,
)
from service.auth.authenticator import Authenticator
from service.auth.exposure import HOW_TO_CREATE_A_KEY, is_ip_address, is_loopback
from service.auth.principal import Principal
from service.auth.rate_limiter import BucketRate, RateLimiter
from service.auth.scopes import Scope

logger = logging.getLogger(__name__)

HOW_TO_SEND = "send `Authorization: Bearer <key>` or `X-API-Key: <key>`"


class AccessControl:
    """Authentication and rate limits for one app.

    Args:
        authenticator: the valid keys.
        limiter: token buckets (memory or Redis).
        default_rate: the rate of a key without its own ``rate_per_minute``.
        burst: most requests a key may send at once (capped at its per-minute rate).
        failure_rate: failed authentications allowed per client address.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        *,
        limiter: RateLimiter,
        default_rate: BucketRate,
        burst: int,
        failure_rate: BucketRate,
    ) -> None:
        self.authenticator = authenticator
        self.limiter = limiter
        self.default_rate = default_rate
        self.burst = burst
        self.failure_rate = failure_rate

    def is_open(self, *, lookup: bool = True) -> bool:
        """No key exists: every route is open (the service then listens on loopback only).
        ``lookup`` as for ``Authenticator.has_keys``."""
        return not self.authenticator.has_keys(lookup=lookup)

    def admit(
        self, key: str | None, *, client: str, server: str = "", lookups: bool = True
    ) -> Principal | None:
        """The principal of ``key``; ``None`` when the API is open.

        Args:
            key: the key the request presented, if any.
            client: the client's address (failed attempts are counted per address).
            server: the local address the request arrived on; without any key only
                loopback is served, whatever address the server was told to bind.
            lookups: may ask the database or Redis. When false, the answer comes from
                memory or ``LookupNeededError`` is raised before anything was charged, so
                the caller can ask again with lookups (the event loop's fast path).

        Raises:
            LookupNeededError: ``lookups`` is false and the answer needs a lookup.
            OpenAccessRefusedError: no key exists and the request came from the network.
            RateLimitedError: the client address failed too often, or the key is over its
                rate.
            AuthenticationError: no key, or an unknown or revoked one.
        """
        if self.is_open(lookup=lookups):
            if is_ip_address(server) and not is_loopback(server):
                raise OpenAccessRefusedError(
                    f"this service has no API key, so it answers on loopback only; "
                    f"{HOW_TO_CREATE_A_KEY}"
                )
            return None
        failures_bucket = f"authfail:{client}"
        if not key:
            # No guess was made (a page loading before sign-in, a misconfigured client):
            # nothing to throttle, and a team behind one address keeps its sign-in page.
            raise AuthenticationError(f"missing API key ({HOW_TO_SEND})")
        if not (lookups or self.limiter.in_process):  # every answer below charges a bucket
            raise LookupNeededError
        principal = self.authenticator.authenticate(key, lookup=lookups)
        if principal is None:
            wait = self.limiter.acquire(failures_bucket, self.failure_rate)
            if wait > 0:
                logger.warning("too many failed authentications from %s", client)
                raise RateLimitedError(
                    "too many failed authentication attempts from this address; "
                    f"retry in {math.ceil(wait)} s",
                    retry_after_s=wait,
                )
            raise AuthenticationError(f"wrong API key ({HOW_TO_SEND})")
        rate = self.rate_of(principal)
        wait = self.limiter.acquire(f"key:{principal.name}", rate)
        if wait > 0:
            raise RateLimitedError(
                f"API key {principal.name!r} is over its rate of {rate.per_minute:g} "
                f"requests per minute; retry in {math.ceil(wait)} s",
                retry_after_s=wait,
            )
        return principal

    def rate_of(self, principal: Principal) -> BucketRate:
        """The key's own rate, or the default; the burst never exceeds a minute's worth."""
        if principal.rate_per_minute is None:
            return self.default_rate
        per_minute = principal.rate_per_minute
        return BucketRate(per_minute, max(1, min(self.burst, per_minute)))

    @staticmethod
    def authorize(principal: Principal | None, scope: Scope) -> None:
        """Raise ``PermissionDeniedError`` unless the principal (or open access) allows
        ``scope``."""
        if principal is not None and not principal.allows(scope):
            raise PermissionDeniedError(
                f"API key {principal.name!r} lacks the {scope!r} scope this route needs "
                f"(it has: {', '.join(sorted(principal.scopes)) or 'none'})"
            )

    def close(self) -> None:
        """Release the limiter's connections."""
        self.limiter.close()
