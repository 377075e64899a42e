"""What every `triage` subcommand shares: the configured encoder and the error exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from models.protocols import Encoder


def load_encoder() -> Encoder:
    """The encoder the service would use (settings and environment), weights loaded.

    Imported lazily: `triage --help` must not pay for torch.
    """
    from service.resources import build_encoder
    from service.settings import Settings

    return build_encoder(Settings())


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (status 2)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)
