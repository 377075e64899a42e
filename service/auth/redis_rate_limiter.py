"""Token buckets in Redis, shared by every worker and replica (``TRIAGE_REDIS_URL``)."""

from __future__ import annotations

import logging

import redis

from models.errors import UnavailableError
from service.auth.rate_limiter import BucketRate

logger = logging.getLogger(__name__)

# One atomic step per request: refill by elapsed time (Redis's own clock, so every
# replica agrees), take a token or say how long to wait, and expire idle buckets.
_TAKE = """
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * per_ms)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_ms) + 1000)
return wait_ms
"""


class RateLimiterUnavailableError(UnavailableError):
    """Redis did not answer; the request is refused rather than let through unlimited."""

    code = "rate_limiter_unavailable"


class RedisRateLimiter:
    """Token buckets under ``<prefix>:ratelimit:<bucket>`` in one Redis.

    Args:
        url: ``redis://host:port/db``.
        prefix: key prefix, so several services (or tests) share one Redis safely.
        timeout_s: socket timeout; a stalled Redis fails the request fast (503).
    """

    name = "redis"
    in_process = False

    def __init__(self, url: str, *, prefix: str, timeout_s: float = 0.5) -> None:
        self.prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._take = self._client.register_script(_TAKE)

    def acquire(self, bucket: str, rate: BucketRate) -> float:
        """Take a token from ``bucket`` (see ``RateLimiter.acquire``)."""
        key = f"{self.prefix}:ratelimit:{bucket}"
        try:
            wait_ms = self._take(keys=[key], args=[rate.burst, rate.per_second / 1000.0])
        except redis.RedisError as exc:
            logger.error("rate limiter: Redis failed: %s", exc.__class__.__name__)
            raise RateLimiterUnavailableError(
                "the rate limiter (Redis) is not reachable; retry the request"
            ) from exc
        return float(wait_ms) / 1000.0

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
