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

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class PipelineThreads:
    """Runs pipeline calls in at most ``size`` threads at a time.

    The limiters are made by the first call, so on the event loop that serves the app (a
    limiter belongs to the loop it was made on).
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._slots: anyio.CapacityLimiter | None = None
        self._threads: anyio.CapacityLimiter | None = None

    def _limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        if self._slots is None or self._threads is None:  # no await since: no other caller
            # Slots are what callers wait for, in arrival order; the second limiter only
            # keeps the threads that hold a slot out of FastAPI's own pool.
            self._slots = anyio.CapacityLimiter(self.size)
            self._threads = anyio.CapacityLimiter(self.size)
        return self._slots, self._threads

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in one of the threads, after the callers before it."""
        async with self.slot():
            return await self.run_in_slot(function, *args)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``size`` places, waiting behind earlier callers: for a caller
        that decides what to run only once it may run (``RequestCoalescer``)."""
        slots, _ = self._limiters()
        async with slots:
            yield

    async def run_in_slot(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in a thread; the caller holds a :meth:`slot`."""
        _, threads = self._limiters()
        return await anyio.to_thread.run_sync(function, *args, limiter=threads)
