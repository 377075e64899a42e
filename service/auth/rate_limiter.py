"""The token-bucket rate limiter protocol (in memory or Redis, chosen by one factory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class BucketRate:
    """A bucket refills ``per_minute`` tokens a minute and holds at most ``burst``."""

    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        """Refill rate in tokens per second."""
        return self.per_minute / 60.0


class RateLimiter(Protocol):
    """Token buckets keyed by a name (an API key's name, or a client address)."""

    name: str
    #: ``acquire`` only touches this process's memory (it never waits on a network).
    in_process: bool

    def acquire(self, bucket: str, rate: BucketRate) -> float:
        """Take one token from ``bucket``: 0 when taken, else the seconds until one is
        available (nothing taken)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
