"""``triage purge --older-than 90d``: delete stored message texts past a retention period."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer


def purge(
    older_than: str = typer.Option(
        ..., "--older-than", help="Age such as 90d, 12w or 36h: texts stored before it go."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Default: TRIAGE_DATABASE_URL or the SQLite file."
    ),
) -> None:
    """Blank the customer messages, subjects, draft and final texts stored before the period
    (statistics and outcomes stay) and delete message-log entries older than it (the
    service also applies TRIAGE_MESSAGES_RETENTION_DAYS itself). Prints a JSON summary."""
    from sqlalchemy.exc import SQLAlchemyError

    from models.errors import TriageError
    from service.database import Database
    from service.feedback.retention import parse_age, purge_message_texts
    from service.messages.message_log_store import MessageLogStore
    from service.settings import Settings

    try:
        age = parse_age(older_than)
    except TriageError as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from exc
    database = Database(database_url or Settings().resolved_database_url)
    try:
        database.migrate()
        before = datetime.now(UTC) - age
        report = purge_message_texts(database, before=before)
        messages = MessageLogStore(database).purge(before=before)
    except (TriageError, SQLAlchemyError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    finally:
        database.close()
    typer.echo(
        json.dumps(
            {
                "before": report.before.isoformat(),
                "suggestions": report.suggestions,
                "feedback": report.feedback,
                "messages": messages,
            }
        )
    )
