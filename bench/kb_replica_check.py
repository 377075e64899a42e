"""Two service workers on one PostgreSQL database: a write through one is found through the
other within 2 s, N times in a row; then concurrent writes through both lose nothing.

    .venv/bin/python bench/kb_replica_check.py [--rounds 100] [--writes 50]
        [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Starts two ``uvicorn --factory service.main:create_app`` processes (the real encoder and
models, default settings) on two free loopback ports, sharing a fresh PostgreSQL database
(created here and dropped at the end) and a temporary data directory. Each round PUTs an
article with a tag of its own through worker A and then searches worker B, filtered on that
tag, until B returns it; the time from A's answer to B's first hit is the replication lag.
A round fails if B has not found the article 2 s after A answered.

Then ``--writes`` PUTs go to each worker at once from two threads (distinct articles, plus
one article both rewrite every time), and the check compares both workers' document lists
with the database and counts the shared article's revisions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.local_ports import free_port  # noqa: E402

DEADLINE_S = 2.0


def start_worker(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
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
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 600) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if process.poll() is not None:
            raise SystemExit(f"worker at {base} exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"worker at {base} not ready after {timeout_s} s")


def article(tag: str, text_: str) -> dict[str, object]:
    return {"title": f"Replica probe {tag}", "text": text_, "tags": [tag]}


def replication_rounds(a: httpx.Client, b: httpx.Client, rounds: int) -> list[float | None]:
    lags: list[float | None] = []
    for i in range(rounds):
        tag = f"probe-{uuid.uuid4().hex[:10]}"
        doc = f"bench/probe-{i}"
        body = article(tag, f"Probe article {i}: parcels to Iceland ship on Tuesdays.")
        response = a.put(f"/v1/kb/documents/{doc}", json=body)
        response.raise_for_status()
        written = time.monotonic()
        lag = None
        while time.monotonic() - written < DEADLINE_S + 1.0:
            hits = b.post(
                "/v1/kb/search",
                json={"query": "parcels to Iceland", "k": 1, "filters": {"tags": [tag]}},
            ).json()["results"]
            if hits and hits[0]["doc_id"] == doc:
                lag = time.monotonic() - written
                break
            time.sleep(0.01)
        lags.append(lag if lag is not None and lag <= DEADLINE_S else None)
    return lags


def concurrent_writes(a: httpx.Client, b: httpx.Client, writes: int) -> dict[str, object]:
    failures: list[str] = []

    def writer(client: httpx.Client, name: str) -> None:
        for i in range(writes):
            for doc, body in (
                (f"bench/{name}-{i}", article(f"w-{name}", f"Article {name} {i} on returns.")),
                ("bench/shared", article("shared", f"Shared article, {name} round {i}.")),
            ):
                response = client.put(f"/v1/kb/documents/{doc}", json=body)
                if response.status_code not in (200, 201):
                    failures.append(f"{name} {doc}: {response.status_code} {response.text}")

    threads = [threading.Thread(target=writer, args=(c, n)) for c, n in ((a, "a"), (b, "b"))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    expected = {f"bench/{n}-{i}" for n in "ab" for i in range(writes)} | {"bench/shared"}
    time.sleep(DEADLINE_S)

    def listed(client: httpx.Client) -> set[str]:
        page = client.get("/v1/kb/documents", params={"limit": 500}).json()
        return {item["id"] for item in page["items"] if item["id"].startswith("bench/")}

    history = a.get("/v1/kb/documents/bench/shared/history").json()["revisions"]
    found_a, found_b = listed(a), listed(b)
    return {
        "failed_requests": len(failures),
        "expected_documents": len(expected),
        "missing_on_a": len(expected - found_a),
        "missing_on_b": len(expected - found_b),
        "shared_revisions": len(history),
        "shared_revisions_expected": 2 * writes,
        "writes_per_s": round(4 * writes / seconds, 1),
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()

    name = f"triage_scale_replica_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{args.admin_url.rsplit('/', 1)[0]}/{name}"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="kb-replica-") as tmp:
            env = {
                **os.environ,
                "TRIAGE_DATABASE_URL": url,
                "TRIAGE_DATA_DIR": tmp,
                "PYTHONPATH": str(REPO),
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
            ports = [free_port(), free_port()]
            bases = [f"http://127.0.0.1:{p}" for p in ports]
            for i, port in enumerate(ports):
                workers.append(start_worker(port, env, Path(tmp) / f"worker-{i}.log"))
            ready = [wait_ready(base, w) for base, w in zip(bases, workers, strict=True)]
            print(f"two workers on PostgreSQL ({name}); ready after {max(ready):.1f} s")
            with (
                httpx.Client(base_url=bases[0], timeout=30) as a,
                httpx.Client(base_url=bases[1], timeout=30) as b,
            ):
                lags = replication_rounds(a, b, args.rounds)
                seen = [lag for lag in lags if lag is not None]
                in_a_row = 0
                for lag in lags:
                    in_a_row = in_a_row + 1 if lag is not None else 0
                print(
                    f"write via A, found via B within {DEADLINE_S:.0f} s: {len(seen)}/{len(lags)}"
                    f" (longest streak at the end: {in_a_row})"
                )
                if seen:
                    ordered = sorted(seen)
                    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
                    print(
                        f"replication lag: median {statistics.median(seen) * 1000:.0f} ms, "
                        f"p95 {p95 * 1000:.0f} ms, max {max(seen) * 1000:.0f} ms"
                    )
                result = concurrent_writes(a, b, args.writes)
                print(f"concurrent writes through both workers: {result}")
                rss = ", ".join(f"{rss_mb(w.pid):.0f} MB" for w in workers)
                documents = a.get("/v1/kb/documents", params={"limit": 1}).json()["total"]
                print(f"resident memory per worker after the run: {rss} ({documents} documents)")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
