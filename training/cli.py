"""The ``triage`` command line."""

from __future__ import annotations

import logging

import typer

from service.serve_command import serve
from training import (
    drafting_commands,
    encoder_commands,
    entity_commands,
    feedback_commands,
    insights_commands,
    intent_commands,
    job_commands,
    purge_command,
    summary_commands,
    taxonomy_commands,
    ticket_commands,
    urgency_commands,
)
from training.kb_commands import kb_app
from training.key_commands import keys_app
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
app.command("serve")(serve)
app.command("worker")(job_commands.worker)
app.command("backfill")(job_commands.backfill)
app.command("purge")(purge_command.purge)

app.add_typer(orders_app, name="orders")
app.add_typer(kb_app, name="kb")
app.add_typer(keys_app, name="keys")
app.add_typer(entity_commands.app, name="entities")
app.add_typer(urgency_commands.app, name="urgency")
app.add_typer(drafting_commands.app, name="drafts")
app.add_typer(encoder_commands.app, name="encoder")
app.add_typer(ticket_commands.app, name="tickets")
app.add_typer(taxonomy_commands.app, name="intents")
app.add_typer(summary_commands.app, name="summaries")
app.add_typer(insights_commands.app, name="insights")


if __name__ == "__main__":
    app()
