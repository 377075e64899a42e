"""``triage serve`` refuses several workers on SQLite before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import app


def test_several_workers_on_sqlite_are_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRIAGE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "1"])
    assert result.exit_code == 2
    assert "needs PostgreSQL" in result.output and "TRIAGE_DATABASE_URL" in result.output
    assert not (tmp_path / "triage.db").exists()  # refused before anything started
