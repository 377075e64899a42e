"""``triage keys create|list|revoke``: scoped API keys stored hashed in the service database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from service.auth.api_key_store import ApiKeyInfo, ApiKeyStore
    from service.database import Database

keys_app = typer.Typer(
    name="keys",
    help="API keys in the service database (shown once at creation; only a hash is kept).",
    no_args_is_help=True,
)

_DATABASE_URL = typer.Option(
    None, "--database-url", help="Default: TRIAGE_DATABASE_URL or the SQLite file."
)


def _store(database_url: str | None) -> tuple[Database, ApiKeyStore]:
    from service.auth.api_key_store import ApiKeyStore
    from service.database import Database
    from service.settings import Settings

    database = Database(database_url or Settings().resolved_database_url)
    database.migrate()
    return database, ApiKeyStore(database)


def _as_json(info: ApiKeyInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "scopes": list(info.scopes),
        "rate_per_minute": info.rate_per_minute,
        "created_at": info.created_at.isoformat(),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


@keys_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who holds the key (shown in audit records)."),
    scopes: str = typer.Option(
        ...,
        "--scopes",
        help="Comma-separated: triage, respond, kb:read, kb:write, feedback, stats, metrics, "
        "admin.",
    ),
    rate_per_minute: int | None = typer.Option(
        None, "--rate-per-minute", help="This key's rate (default: TRIAGE_RATE_LIMIT_PER_MINUTE)."
    ),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Create a key and print it once (stdout); it cannot be shown again."""
    from models.errors import TriageError
    from service.auth.scopes import parse_scopes

    try:
        parsed = parse_scopes(scopes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scopes") from exc
    database, store = _store(database_url)
    try:
        created = store.create(name, scopes=parsed, rate_per_minute=rate_per_minute)
    except TriageError as exc:
        raise _fail(exc) from exc
    finally:
        database.close()
    typer.echo(created.key)
    typer.secho(
        f"key {name!r} created with scopes {','.join(parsed)}; store it now, it is not shown "
        "again. Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
        err=True,
    )


@keys_app.command("list")
def list_keys(
    as_json: bool = typer.Option(False, "--json", help="One JSON array."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Every stored key (never the key itself), active and revoked."""
    from models.errors import TriageError

    database, store = _store(database_url)
    try:
        infos = store.list()
    except TriageError as exc:
        raise _fail(exc) from exc
    finally:
        database.close()
    if as_json:
        typer.echo(json.dumps([_as_json(i) for i in infos], indent=2))
        return
    for info in infos:
        state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
        rate = f"{info.rate_per_minute}/min" if info.rate_per_minute else "default rate"
        typer.echo(f"{info.name}\t{','.join(info.scopes)}\t{rate}\t{state}")


@keys_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="Name of the key."),
    database_url: str | None = _DATABASE_URL,
) -> None:
    """Revoke a key; a running service stops accepting it within TRIAGE_API_KEY_CACHE_S."""
    from models.errors import TriageError

    database, store = _store(database_url)
    try:
        store.revoke(name)
    except TriageError as exc:
        raise _fail(exc) from exc
    finally:
        database.close()
    typer.echo(f"revoked {name}")
