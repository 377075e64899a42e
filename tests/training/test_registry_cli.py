"""`triage models list|register|promote|rollback` on a real registry folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.model_registry import ModelRegistry
from tests.fixtures.artifact_copies import artifact_variant, other_encoder_variant
from training.cli import app

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRIAGE_DATA_DIR: the registry starts empty."""
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("TRIAGE_MODEL_REGISTRY_DIR", raising=False)
    return tmp_path / "var"


def _models(*args: str) -> str:
    result = runner.invoke(app, ["models", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _listing() -> dict[str, dict[str, object]]:
    listing: dict[str, dict[str, object]] = json.loads(_models("list", "--json"))
    return listing


def test_list_registers_the_shipped_defaults_first(data_dir: Path) -> None:
    listing = _listing()
    intent = listing["intent"]
    assert intent["active"] == ModelRegistry(data_dir / "registry").active("intent").version
    versions = intent["versions"]
    assert isinstance(versions, list)
    assert [v["name"] for v in versions] == ["intent-bitext@1.3.0"]
    assert listing["gate"]["versions"] == []  # the service adopts the gate for its encoder
    assert "intent-bitext@1.3.0" in _models("list")


def test_register_promote_and_rollback_without_the_encoder_check(
    data_dir: Path, tmp_path: Path
) -> None:
    candidate = artifact_variant(ARTIFACTS / "urgency-en", tmp_path / "u2", version="42")
    shipped = _listing()["urgency"]["active"]
    out = _models("register", "urgency", str(candidate))
    assert "registered urgency 42-" in out and "active" not in out
    out = _models("promote", "urgency", "42", "--no-check-encoder")
    assert "active: urgency 42-" in out
    assert str(_listing()["urgency"]["active"]).startswith("42-")
    out = _models("rollback", "urgency")
    assert _listing()["urgency"]["active"] == shipped
    result = runner.invoke(app, ["models", "rollback", "urgency"])
    assert result.exit_code == 2
    assert "no earlier urgency version" in result.output


def test_bad_kind_and_unknown_version_are_named(data_dir: Path) -> None:
    result = runner.invoke(app, ["models", "promote", "sentiment", "1"])
    assert result.exit_code == 2
    assert "unknown model kind 'sentiment'" in result.output
    result = runner.invoke(app, ["models", "promote", "intent", "7.7.7", "--no-check-encoder"])
    assert result.exit_code == 2
    assert "no intent version '7.7.7' is registered" in result.output


def test_register_refuses_a_folder_that_is_not_an_artifact(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["models", "register", "intent", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "has no manifest.json" in result.output


@pytest.mark.encoder
def test_promote_refuses_an_artifact_of_another_encoder(data_dir: Path, tmp_path: Path) -> None:
    foreign = other_encoder_variant(
        ARTIFACTS / "urgency-en", tmp_path / "foreign", model_id="someone/else@0123"
    )
    shipped = _listing()["urgency"]["active"]
    _models("register", "urgency", str(foreign))
    version = json.loads((ARTIFACTS / "urgency-en" / "manifest.json").read_text())["version"]
    result = runner.invoke(app, ["models", "promote", "urgency", f"{version}-x"])
    assert result.exit_code == 2
    assert "built with encoder 'someone/else@0123'" in result.output
    assert _listing()["urgency"]["active"] == shipped
    # The same weights under another manifest version pass the check.
    twin = artifact_variant(ARTIFACTS / "urgency-en", tmp_path / "twin", version="5")
    assert "now active" in _models("register", "urgency", str(twin), "--promote")
