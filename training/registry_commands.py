"""`triage models list|register|promote|rollback`: the model registry from the shell.

Every serving worker follows the registry's active pointers (about once a second), so a
promotion or rollback here reaches a running service without a restart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from training.command_helpers import fail

if TYPE_CHECKING:
    from models.model_registry import ModelKind, ModelRegistry, RegistryEntry

app = typer.Typer(
    help="Model registry: versioned intent, urgency and gate artifacts, one active per kind.",
    no_args_is_help=True,
)

RegistryOpt = typer.Option(
    None,
    "--registry",
    file_okay=False,
    help="Registry folder (default: TRIAGE_MODEL_REGISTRY_DIR or <TRIAGE_DATA_DIR>/registry).",
)
CheckEncoderOpt = typer.Option(
    True,
    "--check-encoder/--no-check-encoder",
    help="Refuse an artifact built on another encoder than the configured one (loads it).",
)


def open_registry(registry: Path | None) -> ModelRegistry:
    """The registry the service uses, with the configured intent and urgency models adopted
    as first entries when nothing is active yet (as the service does on its first start;
    the gate, which depends on the encoder backend, is adopted by the service)."""
    from models.model_registry import ModelRegistry
    from service.settings import Settings

    settings = Settings()
    reg = ModelRegistry(registry or settings.resolved_model_registry_dir)
    defaults: dict[ModelKind, Path] = {
        "intent": settings.intent_model_dir,
        "urgency": settings.urgency_model_dir,
    }
    for kind, folder in defaults.items():
        if reg.pointer(kind) is None:
            reg.adopt(kind, folder)
    return reg


def _kind(value: str) -> ModelKind:
    from models.errors import InvalidInputError
    from models.model_registry import parse_kind

    try:
        return parse_kind(value)
    except InvalidInputError as exc:
        raise typer.BadParameter(str(exc), param_hint="KIND") from exc


def check_encoder_compatible(entry: RegistryEntry) -> None:
    """Refuse ``entry`` when the configured encoder cannot serve it (the service would
    refuse it too, and keep its old model)."""
    from models.artifact_manifest import check_encoder, read_manifest
    from training.command_helpers import load_encoder

    check_encoder(read_manifest(entry.path), load_encoder(), source=entry.path)


def _describe(entry: RegistryEntry) -> str:
    return f"{entry.kind} {entry.version} ({entry.label})"


def list_models(
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
    registry: Path | None = RegistryOpt,
) -> None:
    """List registered versions per kind; the active one is marked."""
    from models.errors import TriageError
    from models.model_registry import MODEL_KINDS

    try:
        reg = open_registry(registry)
        listing = {kind: reg.entries(kind) for kind in MODEL_KINDS}
        pointers = {kind: reg.pointer(kind) for kind in MODEL_KINDS}
    except TriageError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        out = {
            kind: {
                "active": p.version if (p := pointers[kind]) else None,
                "previous": list(p.previous) if p else [],
                "versions": [e.to_json() for e in entries],
            }
            for kind, entries in listing.items()
        }
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("kind", "version", "artifact", "created (UTC)", "active")
    for kind, entries in listing.items():
        for e in entries:
            created = e.created_at[:16].replace("T", " ")
            table.add_row(kind, e.version, e.label, created, "*" if e.active else "")
        if not entries:
            table.add_row(kind, "-", "(none yet: the service registers its gate on start)", "", "")
    # Version ids are what `promote` takes: never truncate them to a narrow pipe.
    console = Console()
    Console(width=max(console.width, 140)).print(table)


def register(
    kind: str = typer.Argument(..., help="intent, urgency or gate."),
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Artifact folder."),
    promote: bool = typer.Option(False, "--promote", help="Make it the active version too."),
    check: bool = CheckEncoderOpt,
    registry: Path | None = RegistryOpt,
) -> None:
    """Copy an artifact folder into the registry (its manifest and checksums verified)."""
    from models.errors import TriageError

    k = _kind(kind)
    try:
        reg = open_registry(registry)
        entry = reg.register(k, folder)
        if promote:
            if check:
                check_encoder_compatible(entry)
            entry = reg.promote(k, entry.version)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"registered {_describe(entry)}{'; now active' if entry.active else ''}")


def promote(
    kind: str = typer.Argument(..., help="intent, urgency or gate."),
    version: str = typer.Argument(..., help="Version id, or a prefix naming only one."),
    check: bool = CheckEncoderOpt,
    registry: Path | None = RegistryOpt,
) -> None:
    """Make a registered version the active one; running workers swap within ~1 s."""
    from models.errors import TriageError

    k = _kind(kind)
    try:
        reg = open_registry(registry)
        entry = reg.resolve(k, version)
        if check:
            check_encoder_compatible(entry)
        entry = reg.promote(k, entry.version)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"active: {_describe(entry)}")


def rollback(
    kind: str = typer.Argument(..., help="intent, urgency or gate."),
    registry: Path | None = RegistryOpt,
) -> None:
    """Re-activate the version that was active before the current one."""
    from models.errors import TriageError

    k = _kind(kind)
    try:
        entry = open_registry(registry).rollback(k)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"active: {_describe(entry)}")


app.command("list")(list_models)
app.command("register")(register)
app.command("promote")(promote)
app.command("rollback")(rollback)
