"""Concurrent one-message requests served by one pipeline call.

Under load every pipeline thread is busy and requests wait on the event loop anyway. A
pipeline call pays a fixed cost besides its messages' own work (validation and set-up in
the heads, numpy and scipy calls per batch rather than per row, the message log's hand-off),
all of it holding the GIL that the other threads need: ``Triager.triage_many`` costs about
5.0 ms of CPU per message one at a time and 3.8 ms at eight (README "Performance"). So when
a thread frees up, it takes every waiting request for the same pipeline, up to
``max_batch``, in one call. Nothing ever waits for company: a request that finds a thread
free goes at once, alone, so a lone caller's latency is unchanged.

Each request still gets exactly its own answer. Results keep their order, and when a call
for several requests fails (say one message is refused), each of them is run again alone,
so an error reaches only the request that caused it. Those solo runs, and any call for one
request, run in that request's context (its request id on log lines); a call for several
runs in a fresh one.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from service.pipeline_threads import PipelineThreads

P = TypeVar("P")
I = TypeVar("I")  # noqa: E741 (an item, as in ``Sequence[I]``)
R = TypeVar("R")


@dataclass(eq=False)
class _Waiting(Generic[P, I, R]):
    pipeline: P
    item: I
    future: asyncio.Future[R]
    context: contextvars.Context


@dataclass(frozen=True)
class _Failed:
    error: Exception


class RequestCoalescer(Generic[P, I, R]):
    """Serves ``submit(pipeline, item)`` with ``run_batch(pipeline, items)`` calls in the
    pipeline threads, grouping requests that wait for the same pipeline object.

    Args:
        threads: the pipeline threads (a call holds one of their slots).
        run_batch: the work, in a thread; returns one result per item, in order.
        max_batch: most requests in one call (1: every request alone).
        observe: told the number of requests each call served (metrics).
    """

    def __init__(
        self,
        threads: PipelineThreads,
        run_batch: Callable[[P, Sequence[I]], Sequence[R]],
        *,
        max_batch: int,
        observe: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._threads = threads
        self._run_batch = run_batch
        self.max_batch = max_batch
        self._observe = observe
        self._waiting: deque[_Waiting[P, I, R]] = deque()
        self._dispatchers = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: Calls made and requests served, for benchmarks and tests.
        self.calls = 0
        self.served = 0

    async def submit(self, pipeline: P, item: I) -> R:
        """The result of ``item``, computed alone or with other waiting requests."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(pipeline, item, loop.create_future(), contextvars.copy_context())
        self._waiting.append(waiting)
        # Enough dispatchers to use every slot, never more: a dispatcher that holds a slot
        # cuts its batch from whatever waits at that moment.
        if self._dispatchers < self._threads.size:
            self._dispatchers += 1
            task = loop.create_task(self._dispatch(), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await waiting.future

    def _cut(self) -> list[_Waiting[P, I, R]]:
        """The oldest waiting request and the next ones for the same pipeline (requests
        whose callers went away are dropped)."""
        batch: list[_Waiting[P, I, R]] = []
        kept: list[_Waiting[P, I, R]] = []
        while self._waiting and len(batch) < self.max_batch:
            candidate = self._waiting.popleft()
            if candidate.future.done():
                continue
            (batch if not batch or candidate.pipeline is batch[0].pipeline else kept).append(
                candidate
            )
        self._waiting.extendleft(reversed(kept))
        return batch

    async def _dispatch(self) -> None:
        batch: list[_Waiting[P, I, R]] = []
        try:
            while self._waiting:
                async with self._threads.slot():
                    batch = self._cut()
                    if not batch:
                        break
                    outcomes = await self._threads.run_in_slot(self._run, batch)
                self.calls += 1
                self.served += len(batch)
                if self._observe is not None:
                    self._observe(len(batch))
                for waiting, outcome in zip(batch, outcomes, strict=True):
                    if waiting.future.done():
                        continue
                    if isinstance(outcome, _Failed):
                        waiting.future.set_exception(outcome.error)
                    else:
                        waiting.future.set_result(outcome)
                batch = []
        except BaseException as exc:  # cancelled at shutdown: no caller is left hanging
            for waiting in batch:
                if waiting.future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    waiting.future.cancel()
                else:
                    waiting.future.set_exception(exc)
            raise
        finally:
            self._dispatchers -= 1

    def _run(self, batch: Sequence[_Waiting[P, I, R]]) -> list[R | _Failed]:
        """In a pipeline thread: the whole batch in one call, else each request alone."""
        pipeline = batch[0].pipeline
        if len(batch) > 1:
            try:
                results = self._run_batch(pipeline, [w.item for w in batch])
            except Exception:
                pass  # someone's message was refused: find whose by running each alone
            else:
                return list(results)
        outcomes: list[R | _Failed] = []
        for waiting in batch:
            try:
                outcomes.append(waiting.context.run(self._run_batch, pipeline, [waiting.item])[0])
            except Exception as exc:
                outcomes.append(_Failed(exc))
        return outcomes
