"""Token buckets in this process's memory (the default; per worker process)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from service.auth.rate_limiter import BucketRate

#: Most buckets kept; the least recently used go first, so a flood of client addresses
#: cannot grow memory without bound (a dropped bucket simply starts full again).
MAX_BUCKETS = 100_000


class MemoryRateLimiter:
    """Thread-safe token buckets. With several workers each has its own buckets, so the
    effective rate is up to workers × rate: set ``TRIAGE_REDIS_URL`` to share them."""

    name = "memory"
    in_process = True

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_buckets: int = MAX_BUCKETS
    ) -> None:
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, bucket: str, rate: BucketRate) -> float:
        """Take a token from ``bucket`` (see ``RateLimiter.acquire``)."""
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(bucket, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - stamp) * rate.per_second)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate.per_second
            self._buckets[bucket] = (tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return wait

    def close(self) -> None:
        """Nothing to release."""
