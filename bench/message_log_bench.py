"""What the message log costs: time added to a request, writer throughput, bytes per row,
and queue reads.

    .venv/bin/python bench/message_log_bench.py [--n 300] [--rows 20000] [--postgres URL]

1. Request path. The service's triager (default settings: onnx-int8 encoder, shipped
   models) on ``--n`` Bitext requests (read from ../shared/data at run time, seed 13), one
   message per call as ``/v1/triage`` does: ``Triager.triage`` alone, then
   ``RecordingTriager.triage_each`` (redact, build the entry with its float16 embedding, hand it
   to the background writer, which is running and storing into SQLite meanwhile). Median
   and p95 per call, interleaved so both see the same machine load.
2. Writer throughput. ``--rows`` entries built from those triage results handed over at
   once; seconds until all are stored, on SQLite (WAL, a temporary file) and, with
   ``--postgres``, on PostgreSQL (a database created and dropped by the run).
3. Size. SQLite bytes per stored row (file size after a checkpoint / rows).
4. Reads with ``--rows`` rows: ``MessageLog.page`` (what ``GET /v1/messages`` runs) for the
   newest 50, filtered by queue and urgency, and at offset 5000; median of 20 calls each.

The machine is shared by other work: read the figures as orders of magnitude.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text

from models.intent_classifier import IntentClassifier
from models.triager import TriageInput, TriageResult
from service.database import Database
from service.messages.message_entry import MessageEntry, message_entry
from service.messages.message_log import MessageLog
from service.messages.message_log_store import MessageFilter
from service.messages.message_spool import SPOOL_DIRNAME
from service.messages.recording_triager import RecordingTriager
from service.resources import build_encoder, build_triager
from service.settings import Settings
from tests.fixtures.scratch_postgres import scratch_database

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TRIAGE_SHARED_DATA", REPO.parent / "shared" / "data"))


def bitext_requests(n: int) -> list[str]:
    """``n`` customer requests from the Bitext set, sampled with a fixed seed."""
    with (SHARED_DATA / "bitext_customer_support.csv").open(encoding="utf-8") as handle:
        texts = [row["instruction"] for row in csv.DictReader(handle)]
    return random.Random(13).sample(texts, n)


def ms(values: list[float]) -> str:
    """Median and p95 of seconds, in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def request_path(texts: list[str], settings: Settings, database: Database) -> list[TriageResult]:
    """Step 1; returns the triage results for the later steps."""
    encoder = build_encoder(settings)
    intent = IntentClassifier.from_artifact(settings.intent_model_dir, encoder=encoder)
    triager, _ = build_triager(settings, intent=intent, encoder=encoder)
    log = MessageLog(
        database, spool_dir=settings.data_dir / SPOOL_DIRNAME, retention_days=None
    ).start()
    recording = RecordingTriager(triager, recorder=log)
    for warm in texts[:10]:
        triager.triage(TriageInput(text=warm))
    plain, logged, results = [], [], []
    for body in texts:
        message = TriageInput(text=body, channel="chat")
        start = time.perf_counter()
        results.append(triager.triage(message))
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        recording.triage_each([message])
        logged.append(time.perf_counter() - start)
    log.close()
    added = statistics.median(logged) - statistics.median(plain)
    print(
        f"1. request path ({len(texts)} Bitext messages, one per call, {settings.encoder_backend})"
    )
    print(f"   Triager.triage            {ms(plain)}")
    print(f"   RecordingTriager.triage_each {ms(logged)}")
    print(
        f"   added by the log (median) {added * 1000:.2f} ms; writer dropped {log.writer.dropped}"
    )
    build = []
    for result, body in zip(results, texts, strict=True):
        start = time.perf_counter()
        message_entry("triage", result, text=body, channel="chat")
        build.append(time.perf_counter() - start)
    print(f"   building one entry alone  {ms(build)}")
    return results


def entries(results: list[TriageResult], texts: list[str], rows: int) -> list[MessageEntry]:
    """``rows`` entries cycling through the measured messages (fresh ids)."""
    base = [
        message_entry("triage", r, text=t, channel="chat")
        for r, t in zip(results, texts, strict=True)
    ]
    return [replace(base[i % len(base)], id=uuid.uuid4().hex) for i in range(rows)]


def throughput(
    name: str, database: Database, batch: list[MessageEntry], *, spool_dir: Path
) -> MessageLog:
    """Step 2 on one database; returns the (running) log holding the rows."""
    log = MessageLog(
        database, spool_dir=spool_dir, retention_days=None, max_queue=len(batch) + 1
    ).start()
    start = time.perf_counter()
    log.record(batch)
    log.writer.flush(600)
    seconds = time.perf_counter() - start
    print(
        f"2. writer, {name}: {len(batch)} entries stored in {seconds:.2f} s "
        f"({len(batch) / seconds:,.0f} entries/s), dropped {log.writer.dropped}"
    )
    return log


def reads(name: str, log: MessageLog, sample: MessageEntry) -> None:
    """Step 4 on one database."""
    cases = {
        "newest 50": MessageFilter(),
        f"queue={sample.queue} urgency={sample.urgency}": MessageFilter(
            queue=sample.queue, urgency=sample.urgency
        ),
    }
    for label, filters in cases.items():
        times = []
        for _ in range(20):
            start = time.perf_counter()
            log.page(filters, limit=50)
            times.append(time.perf_counter() - start)
        print(f"4. reads, {name}, {label}: {ms(times)}")
    times = []
    for _ in range(20):
        start = time.perf_counter()
        log.page(MessageFilter(), limit=50, offset=5000)
        times.append(time.perf_counter() - start)
    print(f"4. reads, {name}, offset 5000: {ms(times)}")


def main() -> None:
    """Run the four steps and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--postgres", help="admin URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    texts = bitext_requests(args.n)
    with tempfile.TemporaryDirectory(prefix="message-log-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        path = Path(tmp) / "bench.db"
        database = Database(f"sqlite:///{path.as_posix()}")
        database.migrate()
        results = request_path(texts, settings, database)
        with database.engine.begin() as conn:
            conn.execute(text("DELETE FROM message_log"))
        batch = entries(results, texts, args.rows)
        before = path.stat().st_size
        log = throughput("SQLite", database, batch, spool_dir=Path(tmp) / SPOOL_DIRNAME)
        with database.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = path.stat().st_size - before
        print(f"3. size, SQLite: {grown / len(batch):,.0f} bytes per row ({len(batch)} rows)")
        reads("SQLite", log, batch[0])
        log.close()
        database.close()
        if args.postgres:
            with scratch_database(args.postgres, prefix="message_log_bench") as url:
                pg = Database(url)
                pg.migrate()
                log = throughput(
                    "PostgreSQL", pg, batch, spool_dir=Path(tmp) / f"{SPOOL_DIRNAME}-pg"
                )
                reads("PostgreSQL", log, batch[0])
                log.close()
                pg.close()


if __name__ == "__main__":
    main()
