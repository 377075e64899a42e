"""Dynamic micro-batching: concurrent callers' texts are encoded together on one worker.

The encoder does most of a request's work, and it is far cheaper per text in a batch than
one text at a time (one int8 pass over 32 chat lines costs about what 6 single passes
do). Request threads hand their texts to :class:`MicroBatchingEncoder` and block; one
worker thread takes what is queued (at most ``max_batch`` texts), encodes it in one call
and hands each caller its rows. A lone request is encoded at once, in its own thread when
the worker is idle and nothing is queued (no hand-off to the worker and back: two thread
switches that, on a loaded machine, cost about as much as an int8 pass over a chat line);
one lock keeps it to one ``inner.encode`` at a time either way. Only when the previous
batch served several callers (there is concurrent load) does the worker wait up to
``max_wait_ms`` for more texts before starting. Large jobs (a 256-message batch call, KB
ingestion) are cut into ``max_batch`` pieces taken in turn with other callers' texts, so a
bulk job does not stall interactive requests behind it.

An encoder that runs one text per call anyway (``per_text``: the int8 ONNX backend, whose
dynamic quantisation would make a text's vector depend on its batch-mates) gains nothing
from shared batches, and the worker's hand-offs only add thread switches and a queue in
front of one core. For it there is no worker: callers encode in their own threads, at
most ``lanes`` at a time (ONNX Runtime releases the GIL, so two calls use two cores while
the request threads' Python work interleaves), and a large job takes a lane per
``max_batch`` piece, so it shares the lanes with chat traffic instead of holding one.

It implements the ``Encoder`` protocol, so nothing else changes: every component that
holds the encoder (triage, KB search and ingestion, drafting) shares the one worker, and
with it the one compute pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from models.arrival_order_lanes import ArrivalOrderLanes
from models.errors import ArtifactError
from models.protocols import Encoder

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]


@dataclass(eq=False)
class _Job:
    texts: Sequence[str]
    out: FloatArray
    taken: int = 0
    remaining: int = 0
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class MicroBatchingEncoder:
    """Wraps an encoder so that concurrent ``encode`` calls share batches.

    Args:
        inner: the encoder doing the work (one call at a time: from the worker thread, or
            from a lone caller's thread when the worker is idle).
        max_batch: most texts in one call to ``inner``.
        max_wait_ms: under concurrent load, how long to wait for a batch to fill.
        lanes: for an inner encoder that encodes one text per call (``per_text``), how
            many calls may run at once (it must be safe to call from several threads, as
            an ONNX Runtime session is); a batching encoder always runs one call at a time.
    """

    def __init__(
        self, inner: Encoder, *, max_batch: int = 32, max_wait_ms: float = 2.0, lanes: int = 1
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if lanes < 1:
            raise ValueError("lanes must be at least 1")
        if max_wait_ms < 0:
            raise ValueError("max_wait_ms must not be negative")
        self.inner = inner
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False  # the last batch served more than one caller
        self._encoding = threading.Lock()  # held around every call to ``inner.encode``
        #: Per-text inner encoders skip the worker (see the module docstring).
        self.direct = bool(getattr(inner, "per_text", False))
        self.lanes = lanes if self.direct else 1
        self._lanes = ArrivalOrderLanes(self.lanes)
        self._counts = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="encoder-batcher", daemon=True)
        if not self.direct:
            self._worker.start()
        #: Calls to ``inner.encode`` and texts encoded, for benchmarks and logs.
        self.batches = 0
        self.texts = 0

    @property
    def model_id(self) -> str:
        """The inner encoder's id (batching does not change a vector)."""
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        """The inner encoder's dimension."""
        return self.inner.dimension

    @property
    def backend(self) -> str:
        """The inner encoder's backend name, when it has one."""
        return str(getattr(self.inner, "backend", "unknown"))

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> FloatArray:
        """Vectors of ``texts`` (``batch_size`` is ignored: the worker batches)."""
        if self.direct:
            return self._encode_direct(texts)
        job = _Job(texts, np.zeros((len(texts), self.dimension), dtype=np.float32))
        if not texts:
            return job.out
        job.remaining = len(texts)
        with self._cond:
            if self._closed:
                raise ArtifactError("the encoder is shut down")
            inline = (
                not self._jobs
                and len(texts) <= self.max_batch
                and self._encoding.acquire(blocking=False)
            )
            if not inline:
                self._jobs.append(job)
                self._cond.notify()
        if inline:
            return self._encode_inline(texts)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.out

    def _encode_inline(self, texts: Sequence[str]) -> FloatArray:
        """Encode a lone caller's texts in its own thread (``_encoding`` is held)."""
        try:
            vectors = self.inner.encode(texts, batch_size=self.max_batch)
            self.batches += 1
            self.texts += len(texts)
            # The same dtype the worker's path hands back (no copy when it already is).
            return np.asarray(vectors, dtype=np.float32)
        except BaseException:
            logger.exception("encoder batch of %s texts failed", len(texts))
            raise
        finally:
            self._encoding.release()

    def _encode_direct(self, texts: Sequence[str]) -> FloatArray:
        """A per-text encoder's path: ``max_batch`` texts at a time, each piece in a lane."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.max_batch):
            piece = texts[start : start + self.max_batch]
            self._lanes.acquire()
            try:
                if self._closed:
                    raise ArtifactError("the encoder is shut down")
                try:
                    vectors = self.inner.encode(piece, batch_size=self.max_batch)
                except BaseException:
                    logger.exception("encoder batch of %s texts failed", len(piece))
                    raise
            finally:
                self._lanes.release()
            out[start : start + len(piece)] = vectors
            with self._counts:
                self.batches += 1
                self.texts += len(piece)
        return out

    def close(self) -> None:
        """Finish queued work and stop the worker; later calls raise."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._worker.is_alive():
            self._worker.join(timeout=30)
        # A per-text encoder has no worker: wait for the calls in flight (and those
        # waiting for a lane, which now raise) to end, then give the lanes back.
        for _ in range(self.lanes):
            self._lanes.acquire()
        for _ in range(self.lanes):
            self._lanes.release()

    # -- worker ---------------------------------------------------------------------------

    def _queued_texts(self) -> int:
        return sum(len(j.texts) - j.taken for j in self._jobs)

    def _next_batch(self) -> list[tuple[_Job, int, int]] | None:
        """Wait for work and cut the next batch: ``(job, start, end)`` pieces."""
        with self._cond:
            while not self._jobs and not self._closed:
                self._cond.wait()
            if not self._jobs:
                return None
            if self._busy and self.max_wait > 0:
                deadline = time.monotonic() + self.max_wait
                while self._queued_texts() < self.max_batch and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            pieces: list[tuple[_Job, int, int]] = []
            budget = self.max_batch
            rotate: list[_Job] = []
            while self._jobs and budget > 0:
                job = self._jobs.popleft()
                start = job.taken
                end = min(len(job.texts), start + budget)
                job.taken = end
                budget -= end - start
                pieces.append((job, start, end))
                if end < len(job.texts):
                    rotate.append(job)  # the rest waits behind callers queued after it
            self._jobs.extend(rotate)
            return pieces

    def _run(self) -> None:
        while True:
            pieces = self._next_batch()
            if pieces is None:
                return
            texts = [t for job, a, b in pieces for t in job.texts[a:b]]
            try:
                with self._encoding:
                    vectors = self.inner.encode(texts, batch_size=self.max_batch)
                    self.batches += 1
                    self.texts += len(texts)
            except BaseException as exc:  # handed to the callers, never lost
                logger.exception("encoder batch of %s texts failed", len(texts))
                for job, _, _ in pieces:
                    job.error = exc
                    job.done.set()
                with self._cond:
                    for job, _, _ in pieces:
                        if job in self._jobs:
                            self._jobs.remove(job)
                continue
            self._busy = len({id(job) for job, _, _ in pieces}) > 1
            row = 0
            for job, a, b in pieces:
                job.out[a:b] = vectors[row : row + (b - a)]
                row += b - a
                job.remaining -= b - a
                if job.remaining == 0 and job.error is None:
                    job.done.set()
