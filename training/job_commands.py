"""`triage worker` (a Celery worker for jobs) and `triage backfill` (bulk triage of a file)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from training.command_helpers import fail

if TYPE_CHECKING:
    from service.jobs.backfill import BackfillPlan
    from service.settings import Settings

POLL_S = 0.5


def worker(
    queue: str = typer.Option(None, "--queue", help="Default: TRIAGE_JOBS_QUEUE."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=64, help="Worker processes."),
    pool: str = typer.Option("prefork", "--pool", help="Celery pool: prefork, solo or threads."),
    loglevel: str = typer.Option("info", "--loglevel"),
) -> None:
    """Run a Celery worker for jobs (KB reindex, backfill chunks); needs TRIAGE_BROKER_URL."""
    from service.job_worker import build_worker_app
    from service.settings import Settings

    settings = Settings()
    if settings.broker_url is None:
        raise fail("TRIAGE_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    if pool not in ("prefork", "solo", "threads"):
        raise fail("--pool must be prefork, solo or threads")
    app = build_worker_app(settings)
    app.worker_main(
        [
            "worker",
            "--queues",
            queue or settings.jobs_queue,
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            loglevel,
            "--hostname",
            f"triage-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


def backfill(
    input_path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, metavar="INPUT", help="Tickets (.csv or .jsonl)."
    ),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="Results, one JSON per row."),
    text_column: str = typer.Option("text", "--text-column"),
    subject_column: str | None = typer.Option(None, "--subject-column"),
    id_column: str | None = typer.Option(None, "--id-column", help="Default: the row number."),
    distributed: bool = typer.Option(
        False, "--distributed", help="Fan chunks out to Celery workers (`triage worker`)."
    ),
    chunk_size: int = typer.Option(500, "--chunk-size", min=1, max=100_000),
) -> None:
    """Triage historical tickets into OUT (id, intent, confidence, out_of_scope, urgency,
    entities, routing), in input order. Interrupted runs resume where they stopped."""
    from tqdm import tqdm

    from models.errors import TriageError
    from service.jobs.backfill import BackfillColumns, BackfillPlan
    from service.settings import Settings

    settings = Settings()
    if distributed and settings.broker_url is None:
        raise fail("--distributed needs TRIAGE_BROKER_URL (and `triage worker` running)")
    columns = BackfillColumns(text=text_column, subject=subject_column, id=id_column)
    started = time.monotonic()
    try:
        plan = BackfillPlan.prepare(input_path, out, columns=columns, chunk_size=chunk_size)
        pending = plan.pending()
        done_rows = plan.rows - sum(plan.chunk_rows[i] for i in pending)
        todo_rows = plan.rows - done_rows
        seconds = 0.0
        with tqdm(total=plan.rows, initial=done_rows, unit="row", desc="backfill") as bar:
            if distributed:
                seconds = _run_distributed(settings, plan, pending, bar.update)
            else:
                seconds = _run_here(settings, plan, pending, bar.update)
        lines = plan.assemble(out)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        json.dumps(
            {
                "rows": lines,
                "triaged_now": todo_rows,
                "seconds": round(seconds, 1),
                "total_seconds": round(time.monotonic() - started, 1),
                "rows_per_s": round(todo_rows / seconds, 1) if seconds > 0 else None,
                "mode": "distributed" if distributed else "in-process",
                "out": str(out),
            }
        )
    )


def _run_here(
    settings: Settings, plan: BackfillPlan, pending: list[int], advance: Callable[[int], object]
) -> float:
    """Triage the pending chunks in this process; the seconds spent triaging."""
    from service.job_worker import load_triager
    from service.jobs.backfill import run_chunk

    triager = load_triager(settings)
    started = time.monotonic()
    for chunk in pending:
        result = run_chunk(plan.input_path(chunk), plan.output_path(chunk), triager=triager)
        advance(result["rows"])
    return time.monotonic() - started


def _run_distributed(
    settings: Settings, plan: BackfillPlan, pending: list[int], advance: Callable[[int], object]
) -> float:
    """Send the pending chunks to Celery workers and wait for them; the seconds from the
    first submission to the last result."""
    from service.database import Database
    from service.jobs.celery_job_runner import build_celery_runner
    from service.jobs.job_store import JobStore

    database = Database(settings.resolved_database_url)
    database.migrate()
    runner = build_celery_runner(settings, JobStore(database))
    started = time.monotonic()
    try:
        jobs = {
            chunk: runner.submit(
                "backfill_chunk",
                {
                    "input": str(plan.input_path(chunk).resolve()),
                    "output": str(plan.output_path(chunk).resolve()),
                },
                key=f"{plan.folder.resolve()}:{plan.fingerprint}:{chunk}",
            ).id
            for chunk in pending
        }
        while jobs:
            time.sleep(POLL_S)
            for chunk, job_id in list(jobs.items()):
                job = runner.store.get(job_id)
                if job.status == "failed":
                    raise fail(
                        f"chunk {chunk} failed: {job.error}; run the same command again to "
                        "resume (finished chunks are kept)"
                    )
                if job.status == "succeeded" and plan.output_path(chunk).is_file():
                    advance(plan.chunk_rows[chunk])
                    del jobs[chunk]
        return time.monotonic() - started
    finally:
        runner.close()
        database.close()
