"""Per-request cost of ``/v1/triage`` outside the encoder, measured in-process.

    nice -n 10 .venv/bin/python bench/request_overhead.py [--requests 300] [--backend onnx-int8]

The loopback benchmark (``serving_bench.py``) gives wall-clock figures that a loaded,
shared machine makes noisy. This one sends the same fixed mix of real-length messages
(``serving_bench.build_mix``, seed 13) one at a time through the real app (``create_app``,
default settings, the shipped models, a temporary data directory) over its ASGI interface
(``fastapi.testclient.TestClient``: no sockets), and splits each request's cost in three:

- **encoder**: the encoder call alone, inside the request (a timing wrapper around the
  backend, under the micro-batching worker the service uses);
- **triage**: ``Triager.triage_many`` for the one message, minus the encoder (text
  analysis, language, intent and urgency heads, routing);
- **service**: the rest (HTTP parsing, middlewares, authentication and rate limit,
  request validation, the message log hand-off, response validation and JSON encoding),
  minus the **client floor**: what the same requests cost through ``TestClient`` to a bare
  ASGI app that reads the body and answers a fixed JSON document (the test client and its
  thread hand-offs, which a real server does not pay; printed on its own line).

Each part is given as wall time and as process CPU time (every thread of the process):
CPU time is what a request costs the two cores, and it moves much less than wall time when
other processes compete for them. Prints medians and means per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from starlette.types import Receive, Scope, Send

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.serving_bench import build_mix  # noqa: E402


class _Clock:
    """Wall and process-CPU seconds of the calls it wraps, per thread-safe counter."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wall = 0.0
        self.cpu = 0.0

    def add(self, wall: float, cpu: float) -> None:
        with self.lock:
            self.wall += wall
            self.cpu += cpu

    def read(self) -> tuple[float, float]:
        with self.lock:
            return self.wall, self.cpu


class TimedEncoder:
    """The backend, timed (wall and process CPU) on every call."""

    def __init__(self, inner: Any, clock: _Clock) -> None:
        self.inner = inner
        self.clock = clock

    @property
    def model_id(self) -> str:
        return str(self.inner.model_id)

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    @property
    def backend(self) -> str:
        return str(getattr(self.inner, "backend", "unknown"))

    @property
    def per_text(self) -> bool:
        return bool(getattr(self.inner, "per_text", False))

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            out: npt.NDArray[np.float32] = self.inner.encode(texts, batch_size=batch_size)
            return out
        finally:
            self.clock.add(time.perf_counter() - wall, time.process_time() - cpu)


class TimedTriager:
    """``Triager.triage_many``, timed."""

    def __init__(self, inner: Any, clock: _Clock) -> None:
        self.inner = inner
        self.clock = clock

    def triage_many(self, messages: Sequence[Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.inner.triage_many(messages)
        finally:
            self.clock.add(time.perf_counter() - wall, time.process_time() - cpu)


def _summary(name: str, values: Sequence[float]) -> str:
    ms = [v * 1000.0 for v in values]
    return (
        f"| {name:<36} | {statistics.median(ms):8.2f} | {statistics.fmean(ms):8.2f} "
        f"| {np.percentile(ms, 90):8.2f} |"
    )


async def _bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the request body and answers a fixed small JSON document."""
    if scope["type"] == "lifespan":
        while True:
            event = (await receive())["type"]
            await send({"type": event + ".complete"})
            if event == "lifespan.shutdown":
                return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    body = b'{"intent": {"label": "track_order", "confidence": 0.9}}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client_floor(mix: Sequence[dict[str, str]]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds per request of ``TestClient`` against :func:`_bare_app`."""
    from fastapi.testclient import TestClient

    walls: list[float] = []
    cpus: list[float] = []
    with TestClient(_bare_app) as client:
        for body in mix:
            wall, cpu = time.perf_counter(), time.process_time()
            client.post("/v1/triage", json=body).raise_for_status()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return walls, cpus


def run(requests: int, backend: str, warmup: int) -> None:
    """Send ``requests`` messages one at a time; print the split per request."""
    from fastapi.testclient import TestClient

    from models.micro_batching_encoder import MicroBatchingEncoder
    from service.main import create_app
    from service.resources import (
        build_encoder,
        encoder_lanes,
        load_resources,
        serving_encoder_threads,
    )
    from service.settings import Settings

    encoder_clock, triage_clock = _Clock(), _Clock()
    with tempfile.TemporaryDirectory(prefix="request-overhead-") as tmp:
        settings = Settings(data_dir=Path(tmp), encoder_backend=backend)
        # As ``build_serving_encoder``, with the timing wrapper inside the batching one.
        encoder = MicroBatchingEncoder(
            TimedEncoder(
                build_encoder(settings, threads=serving_encoder_threads(settings)), encoder_clock
            ),
            max_batch=settings.encoder_batch_size,
            max_wait_ms=settings.encoder_batch_wait_ms,
            lanes=encoder_lanes(settings),
        )
        resources = load_resources(settings, encoder=encoder)
        pipeline = resources.triage_pipeline
        pipeline.triager = TimedTriager(pipeline.triager, triage_clock)
        mix = build_mix(max(requests, warmup))
        rows: dict[str, list[float]] = {
            k: [] for k in ("total", "enc", "tri", "cpu_total", "cpu_enc", "cpu_tri")
        }
        try:
            with TestClient(create_app(settings, resources=resources)) as client:
                for body in mix[:warmup]:
                    client.post("/v1/triage", json=body).raise_for_status()
                for body in mix[:requests]:
                    enc0, tri0 = encoder_clock.read(), triage_clock.read()
                    wall, cpu = time.perf_counter(), time.process_time()
                    answer = client.post("/v1/triage", json=body)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    answer.raise_for_status()
                    enc1, tri1 = encoder_clock.read(), triage_clock.read()
                    rows["total"].append(wall)
                    rows["cpu_total"].append(cpu)
                    rows["enc"].append(enc1[0] - enc0[0])
                    rows["cpu_enc"].append(enc1[1] - enc0[1])
                    rows["tri"].append(tri1[0] - tri0[0])
                    rows["cpu_tri"].append(tri1[1] - tri0[1])
        finally:
            resources.close()
    client_floor(mix[:warmup])
    floor, cpu_floor = client_floor(mix[:requests])
    service = [t - r - f for t, r, f in zip(rows["total"], rows["tri"], floor, strict=True)]
    cpu_service = [
        t - r - f for t, r, f in zip(rows["cpu_total"], rows["cpu_tri"], cpu_floor, strict=True)
    ]
    triage_only = [r - e for r, e in zip(rows["tri"], rows["enc"], strict=True)]
    cpu_triage_only = [r - e for r, e in zip(rows["cpu_tri"], rows["cpu_enc"], strict=True)]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"backend {backend}, {requests} sequential /v1/triage requests, load average {load}")
    print(f"| {'ms per request':<36} | {'median':>8} | {'mean':>8} | {'p90':>8} |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    print(_summary("wall: total (client floor included)", rows["total"]))
    print(_summary("wall: encoder", rows["enc"]))
    print(_summary("wall: triage minus encoder", triage_only))
    print(_summary("wall: service (outside triage)", service))
    print(_summary("wall: client floor (not included)", floor))
    print(_summary("cpu: total (client floor included)", rows["cpu_total"]))
    print(_summary("cpu: encoder", rows["cpu_enc"]))
    print(_summary("cpu: triage minus encoder", cpu_triage_only))
    print(_summary("cpu: service (outside triage)", cpu_service))
    print(_summary("cpu: client floor (not included)", cpu_floor))
    share = statistics.fmean(rows["enc"]) / statistics.fmean(rows["total"])
    print(f"encoder share of wall time per request: {share:.0%}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--backend", default="onnx-int8")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    run(args.requests, args.backend, args.warmup)


if __name__ == "__main__":
    main()
