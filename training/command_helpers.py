"""What every `triage` subcommand shares: the configured encoder, the language detector
and the error exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

#: ``--cache DIR``: where ``EmbeddingCache`` keeps vectors of public data between runs.
CacheOpt = typer.Option(
    None,
    "--cache",
    file_okay=False,
    help="Folder for an embedding cache (speeds up repeated runs over public data).",
)

if TYPE_CHECKING:
    from models.language_detector import LanguageDetector
    from models.protocols import Encoder


def load_encoder() -> Encoder:
    """The encoder the service would use (settings and environment), weights loaded.

    Imported lazily: `triage --help` must not pay for torch.
    """
    from service.resources import build_encoder
    from service.settings import Settings

    return build_encoder(Settings())


def language_detector(languages: str | None) -> LanguageDetector:
    """A detector (models not loaded yet) whose supported languages are the comma-separated
    ``--languages`` option, or the service's TRIAGE_SUPPORTED_LANGUAGES without it."""
    from models.language_detector import TRUSTED_BY_DEFAULT, LanguageDetector
    from service.settings import Settings

    keep = (
        tuple(c.strip().lower() for c in languages.split(",") if c.strip())
        if languages
        else Settings().supported_languages or TRUSTED_BY_DEFAULT
    )
    try:
        return LanguageDetector(supported=keep)
    except ValueError as exc:
        raise fail(f"--languages: {exc}") from exc


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (status 2)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)
