"""A database outage under several worker processes: does the message log lose anything?

    PYTHONPATH=. python bench/message_log_outage.py [--before 40] [--during 120] [--workers 2]

The spool's tests run one process; this runs the real thing: ``triage serve --workers N``
(separate processes, each with its own writer and spool segments in one shared folder) on a
fresh PostgreSQL database reached through ``tests/fixtures/tcp_proxy.py``, with a small
in-memory queue (``TRIAGE_MESSAGES_QUEUE_SIZE=10``) so the outage overflows it.

1. ``--before`` /v1/triage calls with the database up;
2. the proxy resets every connection (the database is gone for the service); ``--during``
   more calls, 8 at a time: they must all answer 200 quickly, their log entries waiting in the
   queue or the spool;
3. the service is stopped while the database is still gone (each worker spools what it
   holds), the proxy forwards again, the service is started again: the entries come back.

Counts the rows of ``message_log`` straight from PostgreSQL (not through the proxy) until they
stop changing, and prints: answers per status, the slowest answer during the outage, the
spool files after the stop, rows stored, distinct ids, and what is left in the spool folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.serving_bench import free_port, start_server, stop_server
from service.messages.message_spool import REJECTED_FILENAME, SPOOL_DIRNAME
from tests.fixtures.scratch_postgres import scratch_database
from tests.fixtures.tcp_proxy import TcpProxy

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEXTS = (
    "Where is my order {n}? It should have arrived by now.",
    "I was charged twice for order {n}, please refund one of them",
    "hi can i change the delivery address for {n}",
    "The blender from order {n} arrived broken. I want a replacement.",
)


def _triage(port: int, n: int) -> tuple[int, float]:
    body = json.dumps({"text": TEXTS[n % len(TEXTS)].format(n=4_400_000 + n)}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/triage",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - start


def _send(port: int, numbers: range) -> tuple[Counter[int], float]:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: _triage(port, n), numbers))
    return Counter(status for status, _ in answers), max(seconds for _, seconds in answers)


def _rows(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            total, distinct = conn.execute(
                text("SELECT count(*), count(DISTINCT id) FROM message_log")
            ).one()
        return int(total), int(distinct)
    finally:
        engine.dispose()


def _settled_rows(database_url: str, *, timeout_s: float = 120.0) -> tuple[int, int]:
    """Row counts once they have not changed for 3 s."""
    last, stable_since = (-1, -1), time.monotonic()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = _rows(database_url)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 3:
            break
        time.sleep(0.5)
    return last


def main() -> None:
    """Run the three phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=int, default=40)
    parser.add_argument("--during", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with (
        scratch_database(ADMIN_URL, prefix="triage_outage_bench") as direct_url,
        TcpProxy(("127.0.0.1", 5432)) as proxy,
        tempfile.TemporaryDirectory(prefix="triage-outage-") as tmp,
    ):
        data_dir = Path(tmp) / "data"
        env = {
            "TRIAGE_DATABASE_URL": make_url(direct_url)
            .set(port=proxy.port)
            .render_as_string(hide_password=False),
            "TRIAGE_WORKERS": str(args.workers),
            "TRIAGE_MESSAGES_QUEUE_SIZE": "10",
        }
        port = free_port()
        log = Path(tmp) / "server.log"
        proc, ready = start_server(None, data_dir, port, log, env)
        print(f"{args.workers} workers ready in {ready:.1f} s")
        answered = 0
        try:
            statuses, slowest = _send(port, range(args.before))
            answered += statuses[200]
            print(f"database up: {dict(statuses)}, slowest {slowest:.2f} s")
            proxy.drop()
            statuses, slowest = _send(port, range(args.before, args.before + args.during))
            answered += statuses[200]
            print(f"database gone: {dict(statuses)}, slowest {slowest:.2f} s")
        finally:
            stop_server(proc)
        spool = data_dir / SPOOL_DIRNAME
        segments = [p for p in spool.glob("*.jsonl") if p.name != REJECTED_FILENAME]
        lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in segments)
        print(
            f"after the stop, database still gone: {len(segments)} spool segments "
            f"({len({p.stem.split('-')[1] for p in segments})} processes), {lines} entries"
        )
        proxy.resume()
        proc, ready = start_server(None, data_dir, port, log, env)
        try:
            total, distinct = _settled_rows(direct_url)
        finally:
            stop_server(proc)
        left = sorted(p.name for p in spool.glob("*.jsonl"))
        print(
            f"restarted in {ready:.1f} s: {total} rows stored, {distinct} distinct ids, for "
            f"{answered} calls answered 200; spool files left: {left or 'none'}"
        )


if __name__ == "__main__":
    main()
