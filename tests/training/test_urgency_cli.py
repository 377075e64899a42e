"""`triage urgency evaluate` keeps a held-out test file's messages off the screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import app

pytestmark = pytest.mark.encoder

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "artifacts" / "urgency-en"
runner = CliRunner()

# Every row is labelled against its obvious level, so each one is an error to print.
ROWS = (
    ("someone used my card for 900 pounds in a shop abroad, I never made that payment", "low"),
    ("thanks, the parcel arrived today and everything works now", "critical"),
    ("could you tell me how to update the address on my account?", "critical"),
)


@pytest.fixture(scope="module")
def test_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("urgency") / "held_out.jsonl"
    path.write_text(
        "".join(json.dumps({"text": t, "level": lv}) + "\n" for t, lv in ROWS), encoding="utf-8"
    )
    return path


def _evaluate(*args: str) -> str:
    result = runner.invoke(
        app, ["urgency", "evaluate", "--model", str(SHIPPED), "--no-public", *args]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_evaluate_on_a_test_file_prints_figures_but_no_message(test_file: Path) -> None:
    out = _evaluate("--test-file", str(test_file))
    assert "confusion matrix" in out
    assert "n=3" in out
    for text, _ in ROWS:
        assert text[:40] not in out


def test_evaluate_on_a_test_file_prints_errors_only_when_asked(test_file: Path) -> None:
    out = _evaluate("--test-file", str(test_file), "--errors")
    assert sum(text[:40] in out for text, _ in ROWS) >= 2


def test_evaluate_on_a_split_still_prints_its_errors_by_default(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"x{i}", "text": t, "level": lv, "split": "test"}) + "\n"
            for i, (t, lv) in enumerate(ROWS)
        ),
        encoding="utf-8",
    )
    out = _evaluate("--data", str(data))
    assert sum(text[:40] in out for text, _ in ROWS) >= 2
    assert ROWS[0][0][:40] not in _evaluate("--data", str(data), "--no-errors")
