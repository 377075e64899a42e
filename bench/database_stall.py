"""A PostgreSQL that stalls under load: how fast do respond calls fail, does /healthz answer?

    PYTHONPATH=. python bench/database_stall.py [--calls 45]

Issue 12: with the TCP path to PostgreSQL frozen under 45 respond calls, /healthz gave no
answer in 30 s, /readyz said ready and 15 calls hung > 150 s. This serves the real app
(default models and settings, a fresh PostgreSQL database on 127.0.0.1:5432 reached
through ``tests/fixtures/tcp_proxy.py``) with uvicorn on loopback, freezes the proxy, sends
``--calls`` concurrent /v1/respond calls and polls /healthz and /readyz meanwhile; then
does the same with the proxy dropping every connection. Prints each phase's status counts
and latencies (max, median), the slowest /healthz answer and the /readyz answers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import make_url

from service.main import create_app
from service.settings import Settings
from tests.fixtures.scratch_postgres import scratch_database
from tests.fixtures.tcp_proxy import TcpProxy
from tests.fixtures.uvicorn_server import serving_app

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESPOND = {
    "message": {"text": "Where is my order #4411829?"},
    "customer": {"email": "jane@example.com", "name": "Jane"},
}


def _phase(name: str, client: httpx.Client, calls: int) -> None:
    stop = threading.Event()
    health: list[float] = []
    ready: Counter[int] = Counter()

    def poll() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            client.get("/healthz")
            health.append(time.perf_counter() - start)
            ready[client.get("/readyz").status_code] += 1
            time.sleep(0.1)

    def respond() -> tuple[int, float]:
        start = time.perf_counter()
        response = client.post("/v1/respond", json=RESPOND)
        return response.status_code, time.perf_counter() - start

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        results = list(pool.map(lambda _: respond(), range(calls)))
    stop.set()
    poller.join()
    times = [t for _, t in results]
    statuses = Counter(s for s, _ in results)
    print(
        f"{name}: {calls} respond calls -> {dict(statuses)}, max {max(times):.1f} s, "
        f"median {statistics.median(times):.1f} s; /healthz {len(health)} polls, slowest "
        f"{max(health) * 1000:.0f} ms; /readyz statuses {dict(ready)}"
    )


def main() -> None:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=45)
    args = parser.parse_args()
    with (
        scratch_database(ADMIN_URL, prefix="triage_stall_bench") as database_url,
        TcpProxy(("127.0.0.1", 5432)) as proxy,
        tempfile.TemporaryDirectory(prefix="triage-stall-") as tmp,
    ):
        settings = Settings(
            data_dir=Path(tmp),
            database_url=make_url(database_url)
            .set(port=proxy.port)
            .render_as_string(hide_password=False),
            orders_seed_sample=True,
        )
        print(
            f"statement timeout {settings.database_statement_timeout_s:g} s, connect "
            f"{settings.database_connect_timeout_s:g} s, pool "
            f"{settings.database_pool_timeout_s:g} s"
        )
        with (
            serving_app(create_app(settings)) as url,
            httpx.Client(base_url=url, timeout=300) as client,
        ):
            _phase("healthy", client, args.calls)
            proxy.freeze()
            _phase("frozen", client, args.calls)
            proxy.resume()
            # Clients were told Retry-After; the stall breaker stays open that long.
            time.sleep(settings.database_statement_timeout_s)
            _phase("resumed", client, args.calls)
            proxy.drop()
            _phase("dropped", client, args.calls)
            proxy.resume()


if __name__ == "__main__":
    main()
