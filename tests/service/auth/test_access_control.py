"""Admitting from memory (the event loop's fast path): the same answers as with lookups, and
``LookupNeededError`` before anything is charged when the database or Redis must be asked."""

from __future__ import annotations

import pytest

from service.auth.access_control import AccessControl
from service.auth.auth_errors import (
    AuthenticationError,
    LookupNeededError,
    OpenAccessRefusedError,
    RateLimitedError,
)
from service.auth.authenticator import Authenticator
from service.auth.memory_rate_limiter import MemoryRateLimiter
from service.auth.principal import Principal
from service.auth.rate_limiter import BucketRate, RateLimiter
from service.auth.redis_rate_limiter import RedisRateLimiter

BOT = Principal("bot", frozenset({"triage"}), 2)
KEY = "bot-key-0123456789"


def _access(limiter: RateLimiter, *, keys: bool = True) -> AccessControl:
    return AccessControl(
        Authenticator([(KEY, BOT)] if keys else [], store=None),
        limiter=limiter,
        default_rate=BucketRate(60, 10),
        burst=10,
        failure_rate=BucketRate(2, 2),
    )


def test_memory_answers_without_lookups_as_with_them() -> None:
    access = _access(MemoryRateLimiter())
    assert access.admit(KEY, client="c", lookups=False) == BOT
    assert access.admit(KEY, client="c", lookups=True) == BOT
    with pytest.raises(RateLimitedError):  # the key's rate is 2 a minute, burst 2
        access.admit(KEY, client="c", lookups=False)
    with pytest.raises(AuthenticationError):
        access.admit(None, client="c", lookups=False)
    with pytest.raises(AuthenticationError):
        access.admit("wrong-key-0123456789", client="c", lookups=False)


def test_open_access_needs_no_lookup() -> None:
    access = _access(MemoryRateLimiter(), keys=False)
    assert access.admit(None, client="c", server="127.0.0.1", lookups=False) is None
    with pytest.raises(OpenAccessRefusedError):
        access.admit(None, client="c", server="10.0.0.5", lookups=False)


def test_a_network_limiter_is_asked_only_with_lookups() -> None:
    # Nothing listens on port 9: had the limiter been asked, this would be a 503 error.
    access = _access(RedisRateLimiter("redis://127.0.0.1:9/0", prefix="never-used"))
    try:
        with pytest.raises(LookupNeededError):
            access.admit(KEY, client="c", lookups=False)
        with pytest.raises(LookupNeededError):
            access.admit("wrong-key-0123456789", client="c", lookups=False)
        # Open access never reaches the limiter.
        open_access = _access(access.limiter, keys=False)
        assert open_access.admit(None, client="c", server="::1", lookups=False) is None
    finally:
        access.close()
