"""The request pipelines' threads: a few, on purpose, apart from FastAPI's pool of 40.

Triage, respond, suggest and summarize hold the GIL for about half of their CPU (analysis,
the heads, building responses); the encoder releases it. With FastAPI's default pool every
one of 32 concurrent requests ran in its own thread, and the 32 competed for the GIL: who
got it next was a lottery, so the tail stretched. Bounded to a few threads (default two per
usable core), the other requests wait in the event loop in arrival order and the threads
that run get the GIL and the encoder's lanes without crowding (measured in README
"Performance", fourth round). Everything else (authentication, database-only routes, the
console) keeps FastAPI's pool, so a slow pipeline never holds those back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class PipelineThreads:
    """Runs pipeline calls in at most ``size`` threads at a time.

    The limiter is made by the first call, so on the event loop that serves the app (a
    limiter belongs to the loop it was made on).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in one of the threads, after the callers before it."""
        if self._limiter is None:  # no await since the check: no other caller ran meanwhile
            self._limiter = anyio.CapacityLimiter(self.size)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)
