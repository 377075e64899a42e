"""Token-bucket rate limits per key and for failed authentication per client address, in
memory and in the real Redis on 127.0.0.1:6379 (own key prefix)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from service.auth.memory_rate_limiter import MemoryRateLimiter
from service.auth.rate_limiter import BucketRate
from service.auth.redis_rate_limiter import RedisRateLimiter
from service.settings import ApiKeyEntry

REDIS_URL = "redis://127.0.0.1:6379/0"
SLOW = ApiKeyEntry.model_validate(
    {"name": "slow", "key": "slow-key-0123456789", "scopes": ["triage"], "rate_per_minute": 3}
)
FAST = ApiKeyEntry.model_validate(
    {"name": "fast", "key": "fast-key-0123456789", "scopes": ["triage"]}
)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"triage-hardening-access-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def limiter_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """App settings for the in-memory and the Redis limiter."""
    if request.param == "memory":
        return {}
    return {"redis_url": REDIS_URL, "redis_prefix": request.getfixturevalue("redis_prefix")}


def _triage(client: TestClient, key: str) -> Any:
    return client.post("/v1/triage", json={"text": "hi"}, headers={"X-API-Key": key})


def test_a_key_over_its_rate_gets_429_with_retry_after(
    app_client: Callable[..., AbstractContextManager[TestClient]],
    limiter_settings: dict[str, Any],
) -> None:
    with app_client(api_keys=(SLOW, FAST), **limiter_settings) as client:
        statuses = [_triage(client, "slow-key-0123456789").status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = _triage(client, "slow-key-0123456789")
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        body = limited.json()
        assert body["code"] == "rate_limited" and "'slow'" in body["detail"]
        # Another key has a bucket of its own.
        assert _triage(client, "fast-key-0123456789").status_code == 200


def test_the_default_rate_applies_to_keys_without_their_own(
    app_client: Callable[..., AbstractContextManager[TestClient]],
    limiter_settings: dict[str, Any],
) -> None:
    with app_client(
        api_keys=(FAST,), rate_limit_per_minute=5, rate_limit_burst=2, **limiter_settings
    ) as client:
        statuses = [_triage(client, "fast-key-0123456789").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_failed_authentication_is_limited_per_address(
    app_client: Callable[..., AbstractContextManager[TestClient]],
    limiter_settings: dict[str, Any],
) -> None:
    with app_client(api_keys=(FAST,), auth_failures_per_minute=3, **limiter_settings) as client:
        guesses = [_triage(client, f"guess-{i}").status_code for i in range(5)]
        assert guesses == [401, 401, 401, 429, 429]
        limited = _triage(client, "guess-again")
        assert limited.json()["code"] == "rate_limited" and "Retry-After" in limited.headers
        # The right key still works from the same address.
        assert _triage(client, "fast-key-0123456789").status_code == 200


@pytest.mark.integration
def test_redis_buckets_are_shared_by_several_apps(
    app_client: Callable[..., AbstractContextManager[TestClient]], redis_prefix: str
) -> None:
    shared = {"api_keys": (SLOW,), "redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    with app_client(**shared) as first, app_client(**shared) as second:
        assert _triage(first, "slow-key-0123456789").status_code == 200
        assert _triage(second, "slow-key-0123456789").status_code == 200
        assert _triage(first, "slow-key-0123456789").status_code == 200
        assert _triage(second, "slow-key-0123456789").status_code == 429


def test_an_unreachable_redis_is_503_not_unlimited(
    app_client: Callable[..., AbstractContextManager[TestClient]],
) -> None:
    with app_client(api_keys=(FAST,), redis_url="redis://127.0.0.1:9/0") as client:
        answer = _triage(client, "fast-key-0123456789")
        assert answer.status_code == 503 and "Retry-After" in answer.headers
        assert answer.json()["code"] == "rate_limiter_unavailable"


def test_memory_bucket_refills_with_time() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    rate = BucketRate(per_minute=60, burst=2)
    assert [limiter.acquire("k", rate) for _ in range(2)] == [0.0, 0.0]
    wait = limiter.acquire("k", rate)
    assert wait == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.acquire("k", rate) == 0.0
    assert limiter.acquire("k", rate) > 0


def test_memory_limiter_keeps_a_bounded_number_of_buckets() -> None:
    limiter = MemoryRateLimiter(max_buckets=10)
    for i in range(100):
        limiter.acquire(f"address-{i}", BucketRate(10, 1))
    assert len(limiter._buckets) == 10


@pytest.mark.integration
def test_redis_bucket_waits_are_reported_in_seconds(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
    try:
        rate = BucketRate(per_minute=6, burst=1)
        assert limiter.acquire("k", rate) == 0.0
        wait = limiter.acquire("k", rate)
        assert 9.0 < wait <= 10.0
    finally:
        limiter.close()
