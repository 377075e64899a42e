"""``triage serve``: run the HTTP service with uvicorn (the CLI registers this command)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
import uvicorn
from sqlalchemy.engine import make_url

from models.errors import TriageError
from service.access_control_factory import has_any_key
from service.auth.exposure import is_loopback, refuse_unprotected_exposure
from service.logging_config import logging_config
from service.service_metrics import MULTIPROCESS_ENV, multiprocess_dir
from service.settings import Settings

#: Seconds a worker may take to answer the supervisor's ping (start-up included).
WORKER_HEALTHCHECK_S = 300


def fresh_multiprocess_dir(data_dir: Path) -> Path:
    """``<data_dir>/prometheus-multiproc``, emptied: several workers write their metrics
    there (counts of an earlier run must not be added to this one's)."""
    folder = data_dir / "prometheus-multiproc"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    return folder


def check_workers_database(settings: Settings, workers: int) -> None:
    """Several workers need PostgreSQL: each worker follows the knowledge base through the
    database, and a SQLite file is one process's embedded database. Refuse with the fix."""
    if workers <= 1:
        return
    backend = make_url(settings.resolved_database_url).get_backend_name()
    if backend == "sqlite":
        url = settings.resolved_database_url
        typer.echo(
            f"error: --workers {workers} needs PostgreSQL; SQLite ({url}) serves one worker."
            " Set TRIAGE_DATABASE_URL=postgresql+psycopg://USER@HOST/DB, "
            "or run one worker.",
            err=True,
        )
        raise typer.Exit(code=2)


def serve(
    host: str = typer.Option(None, help="Bind address (default: TRIAGE_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: TRIAGE_PORT or 8000)."),
    workers: int = typer.Option(None, help="Worker processes (default: TRIAGE_WORKERS or 1)."),
) -> None:
    """Run the HTTP service with uvicorn. Without any API key it listens on loopback only:
    asked to listen elsewhere it refuses and says how to create a key."""
    settings = Settings()
    check_workers_database(settings, workers or settings.workers)
    bind = host or settings.host
    try:
        refuse_unprotected_exposure(bind, has_keys=is_loopback(bind) or has_any_key(settings))
    except TriageError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    # The workers' own start-up check (service/main.py) reads the address from the settings.
    os.environ["TRIAGE_HOST"] = bind
    worker_count = workers or settings.workers
    if worker_count > 1 and not multiprocess_dir():
        os.environ[MULTIPROCESS_ENV] = str(fresh_multiprocess_dir(settings.data_dir))
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=bind,
        port=port or settings.port,
        workers=worker_count,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_level, fmt=settings.log_format, background=True),
        # A worker loading models holds the GIL for seconds and cannot answer uvicorn's
        # 5-second health ping; the supervisor then killed it over and over.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )
