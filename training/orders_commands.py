"""``triage orders ...``: import orders into the embedded table, seed the demo sample."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from service.database import Database
    from service.orders.sql_order_connector import SqlOrderConnector

orders_app = typer.Typer(
    name="orders",
    help="Orders in the service database (the embedded 'sql' order connector).",
    no_args_is_help=True,
)

_MAX_ERRORS_SHOWN = 50


def _store(database_url: str | None) -> tuple[Database, SqlOrderConnector]:
    """The migrated database and the SQL order store on it."""
    from service.database import Database
    from service.orders.sql_order_connector import SqlOrderConnector
    from service.settings import Settings

    url = database_url or Settings().resolved_database_url
    database = Database(url)
    database.migrate()
    return database, SqlOrderConnector(database)


@orders_app.command("import")
def import_orders(
    file: Path = typer.Argument(
        ..., help="CSV or JSONL file of orders.", exists=True, dir_okay=False
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="csv or jsonl (default: from the extension)."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows even when some rows are invalid."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Default: TRIAGE_DATABASE_URL or the SQLite file."
    ),
) -> None:
    """Upsert orders by order_id. Columns: order_id, customer_id, customer_email, status,
    carrier, tracking_number, tracking_url, placed_at, shipped_at, estimated_delivery,
    delivered_at, items."""
    from models.errors import TriageError
    from service.orders.order_import import read_order_file

    if fmt is not None and fmt not in {"csv", "jsonl"}:
        raise typer.BadParameter("must be csv or jsonl", param_hint="--format")
    try:
        parsed = read_order_file(file, fmt=fmt)  # type: ignore[arg-type]
    except TriageError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    for error in parsed.errors[:_MAX_ERRORS_SHOWN]:
        typer.secho(f"{file}: {error}", fg=typer.colors.RED, err=True)
    if len(parsed.errors) > _MAX_ERRORS_SHOWN:
        typer.echo(f"... and {len(parsed.errors) - _MAX_ERRORS_SHOWN} more", err=True)
    if parsed.errors and not skip_invalid:
        typer.secho(
            f"{len(parsed.errors)} of {parsed.rows} rows are invalid; nothing imported "
            "(fix them, or pass --skip-invalid)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    database, store = _store(database_url)
    try:
        with typer.progressbar(
            length=len(parsed.orders), label="importing", file=sys.stderr
        ) as bar:
            counts = store.upsert_orders(parsed.orders, progress=bar.update)
    finally:
        database.close()
    skipped = f", {len(parsed.errors)} invalid rows skipped" if parsed.errors else ""
    typer.echo(
        f"imported {counts.inserted + counts.updated} orders from {file} "
        f"({counts.inserted} new, {counts.updated} updated{skipped}) into {database.display_url}"
    )


@orders_app.command("seed")
def seed(
    count: int = typer.Option(
        200, min=0, max=100_000, help="Generated orders besides the demo ones."
    ),
    seed_value: int = typer.Option(7, "--seed", help="Random seed of the generator."),
    today: str | None = typer.Option(None, help="Date the sample is relative to (default: today)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Only when the table holds no orders."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Default: TRIAGE_DATABASE_URL or the SQLite file."
    ),
) -> None:
    """Upsert the demo sample: well-known customers (jane@example.com, order 4411829 in
    transit, ...) plus generated orders, dated relative to today."""
    from service.orders.sample_orders import DEMO_CUSTOMERS, sample_orders

    try:
        anchor = date.fromisoformat(today) if today else date.today()
    except ValueError as exc:
        raise typer.BadParameter(
            f"{today!r} is not a date (YYYY-MM-DD)", param_hint="--today"
        ) from exc
    database, store = _store(database_url)
    try:
        if if_empty and store.count() > 0:
            typer.echo(f"{database.display_url} already holds orders; nothing seeded")
            return
        counts = store.upsert_orders(sample_orders(anchor, count=count, seed=seed_value))
    finally:
        database.close()
    typer.echo(
        f"seeded {counts.inserted + counts.updated} sample orders ({counts.inserted} new) "
        f"into {database.display_url}"
    )
    typer.echo("demo customers: " + ", ".join(email for _, email, _ in DEMO_CUSTOMERS))
