"""The request pipelines run in a few threads of their own, callers in arrival order."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

from service.pipeline_threads import PipelineThreads


def run_in_own_loop(main: Callable[[], Awaitable[None]]) -> None:
    """``anyio.run(main)`` on a thread of its own: the browser tests keep Playwright's loop
    running on the main thread for the session."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            anyio.run(main)
        except BaseException as exc:  # handed to the test below
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def test_at_most_size_calls_run_at_once_and_the_rest_in_arrival_order() -> None:
    threads = PipelineThreads(2)
    lock = threading.Lock()
    running = 0
    most = 0
    started: list[int] = []

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            started.append(n)
        time.sleep(0.03)
        with lock:
            running -= 1
        return n * n

    results: dict[int, int] = {}

    async def call(n: int) -> None:
        results[n] = await threads.run(work, n)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for n in range(8):
                group.start_soon(call, n)
                await anyio.sleep(0.002)

    run_in_own_loop(main)
    assert results == {n: n * n for n in range(8)}
    assert most == 2
    assert started == sorted(started)


def test_errors_reach_the_caller() -> None:
    threads = PipelineThreads(1)

    def fail() -> None:
        raise ValueError("bad message")

    async def main() -> None:
        with pytest.raises(ValueError, match="bad message"):
            await threads.run(fail)
        assert await threads.run(len, "four") == 4

    run_in_own_loop(main)


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PipelineThreads(0)
