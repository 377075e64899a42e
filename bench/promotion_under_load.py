"""A promotion and a rollback of the intent model while a real server is under load.

Starts ``uvicorn --factory service.main:create_app`` (``--workers`` processes) on a free
port with a fresh data directory, registers a second intent version (by default the
active artifact under another manifest version, so responses show which one answered; or
``--candidate DIR``), then runs ``--concurrency`` clients posting ``/v1/triage`` and
``/v1/respond``. After ``--phase-seconds`` it runs ``triage models promote``, and
``--phase-seconds`` after the pointer changed ``triage models rollback`` (the real CLI, in a
subprocess). Prints requests, failures (any non-200 or transport error), latency, the
versions answering in each phase, and how long after each pointer change every worker
swapped (from the workers' own log lines).

    python bench/promotion_under_load.py --concurrency 8 --phase-seconds 15 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.local_ports import free_port  # noqa: E402

MESSAGES = [
    {"text": "Where is my order 4411829? It should have arrived by now."},
    {"text": "I want to cancel my subscription to the newsletter"},
    {"text": "the mug arrived cracked, what now?"},
    {"text": "How do I reset my password? The link never arrives."},
    {"text": "Can I get an invoice for order 5512093?", "subject": "Invoice"},
    {"text": "I was charged twice for the same order!"},
]


def variant(source: Path, target: Path, version: str) -> Path:
    """``source`` under another manifest version: same weights, a distinct artifact."""
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = version
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def triage_cli(env: dict[str, str], *args: str) -> str:
    """Run ``triage ARGS`` and return its last output line."""
    done = subprocess.run(
        [sys.executable, "-m", "training.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


class Load:
    """Clients posting in a loop; every answer is kept (time, status, version, latency)."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.base_url = base_url
        self.concurrency = concurrency
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results: list[tuple[float, int, str | None, float]] = []
        self.errors: list[str] = []

    def _client(self, n: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30.0) as client:
            i = n
            while not self.stop.is_set():
                message = MESSAGES[i % len(MESSAGES)]
                respond = i % 3 == 0
                i += 1
                start = time.time()
                try:
                    if respond:
                        r = client.post("/v1/respond", json={"message": message})
                        version = r.json()["triage"]["model_version"] if r.is_success else None
                    else:
                        r = client.post("/v1/triage", json=message)
                        version = r.json()["model_version"] if r.is_success else None
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status, version = 0, None
                    with self.lock:
                        self.errors.append(repr(exc))
                with self.lock:
                    self.results.append((start, status, version, time.time() - start))

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        return threads


def settled_after(
    results: list[tuple[float, int, str | None, float]], at: float, version: str
) -> float | None:
    """Seconds from ``at`` until the last request *started* after ``at`` that still got
    another version than ``version`` (None when none did: immediate)."""
    late = [t for t, status, v, _ in results if t >= at and status == 200 and v != version]
    return (max(late) - at) if late else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--phase-seconds",
        type=float,
        default=15.0,
        help="load before the promotion, and after each pointer change",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--candidate", type=Path, help="intent artifact to promote")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="promotion-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TRIAGE_DATA_DIR": str(data_dir),
        "TRIAGE_ORDERS_SEED_SAMPLE": "true",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    # The app's own INFO lines ("models swapped") with process ids and wall-clock times,
    # to time each worker's swap.
    log_config = data_dir / "logging.json"
    log_config.write_text(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {
                    "plain": {"format": "%(created).3f %(process)d %(name)s %(message)s"}
                },
                "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "plain"}},
                "root": {"level": "WARNING", "handlers": ["err"]},
                "loggers": {"service.model_slot": {"level": "INFO"}},
            }
        ),
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "service.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-config",
            str(log_config),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("w"),
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=5).is_success:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start; see {data_dir / 'server.log'}")
            time.sleep(1)
        ready = httpx.get(f"{base_url}/readyz", timeout=5).json()
        shipped = ready["versions"]["intent_model"]
        candidate_dir = args.candidate or variant(
            ROOT / "models" / "artifacts" / "intent-bitext", data_dir / "candidate", "9.9.9-bench"
        )
        registered = triage_cli(env, "models", "register", "intent", str(candidate_dir))
        version_id = registered.split()[2]
        candidate_label = registered.split("(")[1].rstrip(")").split(";")[0]
        print(f"server: {args.workers} workers on {base_url}; serving {shipped}")
        print(f"registered {version_id} ({candidate_label})")

        pointer = data_dir / "registry" / "intent" / "ACTIVE"
        watcher = PointerWatcher(pointer)
        watcher.start()
        load = Load(base_url, args.concurrency)
        started = time.time()
        threads = load.run()
        time.sleep(args.phase_seconds)
        print(triage_cli(env, "models", "promote", "intent", version_id))
        promoted = watcher.wait_for_change(1)
        time.sleep(max(0.0, promoted + args.phase_seconds - time.time()))
        print(triage_cli(env, "models", "rollback", "intent"))
        rolled_back = watcher.wait_for_change(2)
        time.sleep(max(0.0, rolled_back + args.phase_seconds - time.time()))
        load.stop.set()
        for t in threads:
            t.join()
        ended = time.time()
        watcher.stop.set()
    finally:
        server.terminate()
        server.wait(timeout=30)
        swaps = [
            (float(line.split()[0]), line.split()[1])
            for line in (data_dir / "server.log").read_text(encoding="utf-8").splitlines()
            if "models swapped" in line
        ]
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    results = load.results
    elapsed = ended - started
    statuses = Counter(status for _, status, _, _ in results)
    failed = sum(n for status, n in statuses.items() if status != 200)
    latencies = sorted(lat for _, status, _, lat in results if status == 200)
    print(
        f"{len(results)} requests in {elapsed:.1f} s at concurrency {args.concurrency} "
        f"({len(results) / elapsed:.1f}/s); failed: {failed}; statuses {dict(statuses)}"
    )
    if load.errors:
        print(f"transport errors: {Counter(load.errors).most_common(3)}")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms"
        )
    phases = (
        ("before promotion", started, promoted, shipped),
        ("after promotion", promoted, rolled_back, candidate_label),
        ("after rollback", rolled_back, ended + 1, shipped),
    )
    for name, lo, hi, expected in phases:
        window = [r for r in results if lo <= r[0] < hi]
        seen = Counter(v for _, status, v, _ in window if status == 200)
        print(f"  {name:<17} {dict(seen)}")
        if name == "before promotion":
            continue
        delays = [f"pid {pid} +{at - lo:.2f} s" for at, pid in swaps if lo <= at < hi]
        last_old = settled_after(window, lo, expected)
        print(
            f"    pointer changed at +{lo - started:.1f} s; workers swapped: "
            f"{', '.join(delays) or 'none'}; last request started after the change on the "
            f"old version: " + (f"+{last_old:.2f} s" if last_old is not None else "none")
        )


class PointerWatcher(threading.Thread):
    """Notes the wall-clock time of every change of the active pointer (20 ms polls)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.changes: list[float] = []
        self._last = self._read()

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError:
            return ""

    def run(self) -> None:
        while not self.stop.wait(0.02):
            current = self._read()
            if current and current != self._last:
                self._last = current
                self.changes.append(time.time())

    def wait_for_change(self, count: int, timeout_s: float = 300.0) -> float:
        """Wall time of the ``count``-th change."""
        deadline = time.time() + timeout_s
        while len(self.changes) < count:
            if time.time() > deadline:
                raise SystemExit(f"{self.path} did not change")
            time.sleep(0.02)
        return self.changes[count - 1]


if __name__ == "__main__":
    main()
