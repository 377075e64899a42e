"""The micro-batching wrapper: concurrent callers share batches and get their own rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from models.errors import ArtifactError
from models.micro_batching_encoder import MicroBatchingEncoder
from tests.fixtures.hashing_encoder import HashingEncoder


class SlowRecordingEncoder(HashingEncoder):
    """A real (hashing) encoder that takes its time and records each batch it is given."""

    def __init__(self, *, delay: float = 0.02, fail_on: str | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.fail_on = fail_on
        self.batches: list[int] = []

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        self.batches.append(len(texts))
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("encoder broke")
        time.sleep(self.delay)
        return super().encode(texts)


def test_concurrent_callers_share_batches_and_get_their_own_rows() -> None:
    inner = SlowRecordingEncoder()
    batcher = MicroBatchingEncoder(inner, max_batch=32, max_wait_ms=5)
    reference = HashingEncoder()
    texts = [[f"message {i} about order {i * 7}", f"second line {i}"] for i in range(24)]
    results: dict[int, npt.NDArray[np.float32]] = {}

    def call(i: int) -> None:
        results[i] = batcher.encode(texts[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()
    for i in range(24):
        np.testing.assert_allclose(results[i], reference.encode(texts[i]))
    assert sum(inner.batches) == 48
    assert len(inner.batches) < 24  # some callers were served together
    assert max(inner.batches) <= 32


def test_large_job_is_cut_into_bounded_batches() -> None:
    inner = SlowRecordingEncoder(delay=0.0)
    batcher = MicroBatchingEncoder(inner, max_batch=8)
    texts = [f"article chunk {i}" for i in range(30)]
    vectors = batcher.encode(texts)
    batcher.close()
    np.testing.assert_allclose(vectors, HashingEncoder().encode(texts))
    assert inner.batches == [8, 8, 8, 6]


def test_encoder_failure_reaches_every_caller_in_the_batch() -> None:
    batcher = MicroBatchingEncoder(SlowRecordingEncoder(fail_on="boom"), max_batch=4)
    with pytest.raises(RuntimeError, match="encoder broke"):
        batcher.encode(["boom", "fine"])
    # The worker survives a failed batch.
    assert batcher.encode(["fine"]).shape == (1, 64)
    batcher.close()


def test_empty_input_and_shutdown() -> None:
    batcher = MicroBatchingEncoder(HashingEncoder(), max_batch=4)
    assert batcher.encode([]).shape == (0, 64)
    assert batcher.model_id == "test/hashing-encoder"
    batcher.close()
    with pytest.raises(ArtifactError, match="shut down"):
        batcher.encode(["too late"])


def test_settings_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatchingEncoder(HashingEncoder(), max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        MicroBatchingEncoder(HashingEncoder(), max_wait_ms=-1)


def test_lone_caller_is_encoded_in_its_own_thread() -> None:
    """An idle worker and an empty queue: the caller encodes itself (no hand-off)."""
    threads: list[str] = []

    class ThreadRecordingEncoder(HashingEncoder):
        def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
            threads.append(threading.current_thread().name)
            return super().encode(texts)

    batcher = MicroBatchingEncoder(ThreadRecordingEncoder(), max_batch=4)
    vectors = batcher.encode(["where is my parcel", "refund please"])
    # A job over max_batch still goes to the worker, which cuts it.
    batcher.encode([f"chunk {i}" for i in range(9)])
    batcher.close()
    np.testing.assert_allclose(
        vectors, HashingEncoder().encode(["where is my parcel", "refund please"])
    )
    assert threads[0] == threading.current_thread().name
    assert set(threads[1:]) == {"encoder-batcher"}
    assert (batcher.batches, batcher.texts) == (4, 11)


def test_inner_encoder_never_runs_twice_at_once() -> None:
    """Lone callers in their own threads and the worker's batches take turns."""
    running = 0
    most = 0
    lock = threading.Lock()

    class OverlapRecordingEncoder(HashingEncoder):
        def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.002)
            with lock:
                running -= 1
            return super().encode(texts)

    batcher = MicroBatchingEncoder(OverlapRecordingEncoder(), max_batch=8, max_wait_ms=1)
    reference = HashingEncoder()
    failures: list[str] = []

    def call(i: int) -> None:
        for j in range(10):
            texts = [f"caller {i} message {j}"] * (1 + (i + j) % 3)
            if not np.allclose(batcher.encode(texts), reference.encode(texts)):
                failures.append(f"{i}/{j}")

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()
    assert failures == []
    assert most == 1


class PerTextEncoder(SlowRecordingEncoder):
    """A real (hashing) encoder that, like the int8 ONNX backend, encodes one text per call
    and may be called from several threads; it records how many calls overlap."""

    per_text = True

    def __init__(self, *, delay: float = 0.02) -> None:
        super().__init__(delay=delay)
        self.lock = threading.Lock()
        self.active = 0
        self.most_active = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            return super().encode(texts)
        finally:
            with self.lock:
                self.active -= 1


def test_per_text_encoder_runs_in_callers_threads_at_most_lanes_at_once() -> None:
    inner = PerTextEncoder(delay=0.05)
    batcher = MicroBatchingEncoder(inner, max_batch=4, lanes=2)
    assert batcher.direct and batcher.lanes == 2
    reference = HashingEncoder()
    texts = [[f"message {i}", f"order {i * 7}"] for i in range(12)]
    results: dict[int, npt.NDArray[np.float32]] = {}

    def call(i: int) -> None:
        results[i] = batcher.encode(texts[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batch = [f"article chunk {i}" for i in range(10)]
    np.testing.assert_allclose(batcher.encode(batch), reference.encode(batch))
    batcher.close()
    for i in range(12):
        np.testing.assert_allclose(results[i], reference.encode(texts[i]))
    assert inner.most_active == 2  # two calls overlapped, never three
    assert inner.batches[-3:] == [4, 4, 2]  # a large job goes lane by lane in pieces
    with pytest.raises(ArtifactError):
        batcher.encode(["after close"])


def test_batching_encoder_ignores_lanes() -> None:
    batcher = MicroBatchingEncoder(SlowRecordingEncoder(delay=0.0), lanes=4)
    assert not batcher.direct and batcher.lanes == 1
    batcher.close()
