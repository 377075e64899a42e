"""Backfill throughput: the full Bitext file in-process and with two Celery workers.

    .venv/bin/python bench/backfill_bench.py [--rows N] [--workers 2] [--chunk-size 500]
        [--broker redis://127.0.0.1:6379/0]

1. ``triage backfill bitext_customer_support.csv --text-column instruction`` in this
   process's child (the service's thread budget: all usable cores for the encoder).
2. ``--workers`` ``triage worker --pool solo`` processes (one encoder thread each, so two
   workers use the two cores) on a queue of this run's own on the local Redis, a SQLite
   jobs table in a temporary data folder; each is warmed up with a two-row backfill so
   the figure is steady-state triage, then the same file with ``--distributed``.

Prints rows/s of each (rows over the seconds spent triaging, model loading excluded;
the CLI's own JSON summary also has the total) and whether both outputs are identical.
Reads the data set from ../shared/data at run time; writes only to a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TRIAGE_SHARED_DATA", REPO.parent / "shared" / "data"))


def run_backfill(args: list[str], env: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-m", "training.cli", "backfill", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    summary: dict[str, object] = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=0, help="First N rows only (0: all).")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    source = SHARED_DATA / "bitext_customer_support.csv"
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.rows:
            with source.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                rows = [r for _, r in zip(range(args.rows), reader, strict=False)]
            source = tmp / "bitext_head.csv"
            with source.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        queue = f"backfill-bench-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TRIAGE_DATA_DIR": str(tmp / "var"),
            "TRIAGE_BROKER_URL": args.broker,
            "TRIAGE_JOBS_QUEUE": queue,
        }
        common = [str(source), "--text-column", "instruction", "--chunk-size", str(args.chunk_size)]

        local = run_backfill([*common, "--out", str(tmp / "in_process.jsonl")], env)
        print(f"in-process: {local}")

        worker_env = {**env, "TRIAGE_COMPUTE_THREADS": "1"}
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "training.cli", "worker", "--pool", "solo"],
                cwd=REPO,
                env=worker_env,
                stdout=(tmp / f"worker-{i}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            for i in range(args.workers)
        ]
        try:
            warm = tmp / "warm.jsonl"
            warm.write_text(
                "".join('{"text": "where is my order"}\n' for _ in range(4 * args.workers))
            )
            # One row per chunk: while one worker loads its models, the others take chunks.
            run_backfill(
                [str(warm), "--chunk-size", "1", "--distributed", "--out", str(tmp / "w.jsonl")],
                env,
            )
            time.sleep(1)
            remote = run_backfill(
                [*common, "--distributed", "--out", str(tmp / "distributed.jsonl")], env
            )
            print(f"{args.workers} celery workers: {remote}")
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)
        identical = filecmp.cmp(tmp / "in_process.jsonl", tmp / "distributed.jsonl", shallow=False)
        print(
            f"rows/s in-process {local['rows_per_s']}, {args.workers} celery workers "
            f"{remote['rows_per_s']}; rows {local['rows']}; outputs identical: {identical}"
        )


if __name__ == "__main__":
    main()
