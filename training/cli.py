"""The ``triage`` command line."""

from __future__ import annotations

import logging

import typer

from training import (
    drafting_commands,
    entity_commands,
    feedback_commands,
    intent_commands,
    taxonomy_commands,
    ticket_commands,
    urgency_commands,
)
from training.kb_commands import kb_app
from training.orders_commands import orders_app

app = typer.Typer(
    name="triage",
    help="helpdesk-triage: serve the API, train and evaluate models, manage the KB.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


app.command("train")(intent_commands.train)
app.command("evaluate")(intent_commands.evaluate)
app.command("split")(intent_commands.split)
app.command("retrain")(feedback_commands.retrain)


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default: TRIAGE_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: TRIAGE_PORT or 8000)."),
    workers: int = typer.Option(None, help="Worker processes (default: TRIAGE_WORKERS or 1)."),
) -> None:
    """Run the HTTP service with uvicorn."""
    import uvicorn

    from service.settings import Settings

    settings = Settings()
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
    )


app.add_typer(orders_app, name="orders")
app.add_typer(kb_app, name="kb")
app.add_typer(entity_commands.app, name="entities")
app.add_typer(urgency_commands.app, name="urgency")
app.add_typer(drafting_commands.app, name="drafts")
app.add_typer(ticket_commands.app, name="tickets")
app.add_typer(taxonomy_commands.app, name="intents")


if __name__ == "__main__":
    app()
