"""Concurrent one-message requests share a pipeline call, and each still gets its own
answer (``service/request_coalescer.py``), with real threads and a real event loop."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Sequence

import anyio
import pytest

from service.pipeline_threads import PipelineThreads
from service.request_coalescer import RequestCoalescer
from tests.service.test_pipeline_threads import run_in_own_loop

whose: contextvars.ContextVar[str] = contextvars.ContextVar("whose", default="-")


class Squarer:
    """A pipeline whose calls are slow enough for requests to pile up behind them; it
    refuses negative numbers, as a triager refuses an empty text."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.calls: list[list[int]] = []
        self.contexts: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, pipeline: str, items: Sequence[int]) -> list[str]:
        with self._lock:
            self.calls.append(list(items))
            self.contexts.append(whose.get())
        time.sleep(self.delay)
        if any(n < 0 for n in items):
            raise ValueError(f"negative number in {list(items)}")
        return [f"{pipeline}:{n * n}" for n in items]


def serve(
    coalescer: RequestCoalescer[str, int, str],
    requests: Sequence[tuple[str, int]],
    *,
    gap: float = 0.002,
) -> dict[int, str | BaseException]:
    """Each request submitted by a task of its own, ``gap`` seconds apart."""
    answers: dict[int, str | BaseException] = {}

    async def one(pipeline: str, n: int) -> None:
        whose.set(f"request {n}")
        try:
            answers[n] = await coalescer.submit(pipeline, n)
        except ValueError as exc:
            answers[n] = exc

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for pipeline, n in requests:
                group.start_soon(one, pipeline, n)
                await anyio.sleep(gap)

    run_in_own_loop(main)
    return answers


def test_a_lone_request_runs_at_once_alone_in_its_own_context() -> None:
    work = Squarer(delay=0.0)
    coalescer = RequestCoalescer(PipelineThreads(2), work, max_batch=8)
    assert serve(coalescer, [("a", 3)]) == {3: "a:9"}
    assert work.calls == [[3]]
    assert work.contexts == ["request 3"]


def test_requests_that_wait_for_a_thread_share_one_call_and_keep_their_answers() -> None:
    work = Squarer()
    coalescer = RequestCoalescer(PipelineThreads(1), work, max_batch=8)
    answers = serve(coalescer, [("a", n) for n in range(1, 7)])
    assert answers == {n: f"a:{n * n}" for n in range(1, 7)}
    # The first takes the only thread; the five that arrive meanwhile go together, in
    # arrival order.
    assert work.calls == [[1], [2, 3, 4, 5, 6]]
    assert (coalescer.calls, coalescer.served) == (2, 6)


def test_a_call_serves_at_most_max_batch_requests() -> None:
    work = Squarer()
    coalescer = RequestCoalescer(PipelineThreads(1), work, max_batch=3)
    answers = serve(coalescer, [("a", n) for n in range(1, 9)])
    assert answers == {n: f"a:{n * n}" for n in range(1, 9)}
    assert work.calls == [[1], [2, 3, 4], [5, 6, 7], [8]]


def test_an_error_reaches_only_the_request_that_caused_it() -> None:
    work = Squarer()
    coalescer = RequestCoalescer(PipelineThreads(1), work, max_batch=8)
    answers = serve(coalescer, [("a", 1), ("a", 2), ("a", -3), ("a", 4)])
    assert answers[1] == "a:1" and answers[2] == "a:4" and answers[4] == "a:16"
    assert isinstance(answers[-3], ValueError) and str(answers[-3]) == "negative number in [-3]"
    # The shared call failed, so each of its requests ran again alone, in its own context.
    assert work.calls == [[1], [2, -3, 4], [2], [-3], [4]]
    assert work.contexts[2:] == ["request 2", "request -3", "request 4"]


def test_requests_for_different_pipelines_are_never_mixed() -> None:
    work = Squarer()
    coalescer = RequestCoalescer(PipelineThreads(1), work, max_batch=8)
    requests = [("a", 1), ("a", 2), ("b", 3), ("a", 4), ("b", 5)]
    answers = serve(coalescer, requests)
    assert answers == {1: "a:1", 2: "a:4", 3: "b:9", 4: "a:16", 5: "b:25"}
    assert work.calls == [[1], [2, 4], [3, 5]]


def test_a_request_whose_caller_left_is_not_computed() -> None:
    work = Squarer()
    coalescer = RequestCoalescer(PipelineThreads(1), work, max_batch=8)
    answers: dict[int, str] = {}

    async def one(n: int) -> None:
        answers[n] = await coalescer.submit("a", n)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(one, 1)
            await anyio.sleep(0.005)
            with anyio.move_on_after(0.01):  # gives up while the first call runs
                await coalescer.submit("a", 2)
            group.start_soon(one, 3)

    run_in_own_loop(main)
    assert answers == {1: "a:1", 3: "a:9"}
    assert work.calls == [[1], [3]]


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        RequestCoalescer(PipelineThreads(1), Squarer(), max_batch=0)
