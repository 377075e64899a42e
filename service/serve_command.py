"""``triage serve``: run the HTTP service with uvicorn (the CLI registers this command)."""

from __future__ import annotations

import typer
import uvicorn
from sqlalchemy.engine import make_url

from service.settings import Settings


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
    """Run the HTTP service with uvicorn."""
    settings = Settings()
    check_workers_database(settings, workers or settings.workers)
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
    )
