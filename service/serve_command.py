"""``triage serve``: run the HTTP service with uvicorn (the CLI registers this command)."""

from __future__ import annotations

import typer
import uvicorn

from service.settings import Settings


def serve(
    host: str = typer.Option(None, help="Bind address (default: TRIAGE_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: TRIAGE_PORT or 8000)."),
    workers: int = typer.Option(None, help="Worker processes (default: TRIAGE_WORKERS or 1)."),
) -> None:
    """Run the HTTP service with uvicorn."""
    settings = Settings()
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
    )
