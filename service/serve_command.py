"""``triage serve``: run the HTTP service with uvicorn (the CLI registers this command)."""

from __future__ import annotations

import os

import typer
import uvicorn

from models.errors import TriageError
from service.access_control_factory import has_any_key
from service.auth.exposure import is_loopback, refuse_unprotected_exposure
from service.settings import Settings


def serve(
    host: str = typer.Option(None, help="Bind address (default: TRIAGE_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: TRIAGE_PORT or 8000)."),
    workers: int = typer.Option(None, help="Worker processes (default: TRIAGE_WORKERS or 1)."),
) -> None:
    """Run the HTTP service with uvicorn. Without any API key it listens on loopback only:
    asked to listen elsewhere it refuses and says how to create a key."""
    settings = Settings()
    bind = host or settings.host
    try:
        refuse_unprotected_exposure(bind, has_keys=is_loopback(bind) or has_any_key(settings))
    except TriageError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    # The workers' own start-up check (service/main.py) reads the address from the settings.
    os.environ["TRIAGE_HOST"] = bind
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=bind,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
    )
