"""`triage train`, `triage evaluate` and `triage split` run end to end on real files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import app

pytestmark = pytest.mark.encoder

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def _train(out: Path, *extra: str) -> None:
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--category-column",
            "category",
            "--negatives",
            str(FIXTURES / "negatives_tiny.csv"),
            "--out",
            str(out),
            "--name",
            "tiny",
            "--version",
            "9.9.9",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "held-out metrics" in result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "model"
    _train(out)
    return out


def test_train_writes_a_versioned_artifact(trained: Path) -> None:
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["name"] == "tiny"
    assert manifest["version"] == "9.9.9"
    assert manifest["encoder"]["dimension"] == 384
    assert manifest["params"]["categories"]["track_order"] == "ORDER"
    assert "heldout_accuracy" in manifest["metrics"]


def test_evaluate_json_has_the_documented_keys(trained: Path, tmp_path: Path) -> None:
    data = tmp_path / "eval.csv"
    rows = [
        ("where has my parcel got to", "track_order"),
        ("please give me my money back", "get_refund"),
        ("tell me a joke about cats", "out_of_scope"),
    ]
    with data.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["message", "gold"])
        writer.writerows(rows)
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(trained),
            "--data",
            str(data),
            "--text-column",
            "message",
            "--label-column",
            "gold",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert set(figures) == {
        "accuracy",
        "accuracy_ci95",
        "macro_f1",
        "n",
        "in_scope_accuracy",
        "in_scope_accuracy_ci95",
        "oos_recall",
        "oos_recall_ci95",
    }
    assert figures["n"] == 3
    lo, hi = figures["oos_recall_ci95"]
    assert lo <= figures["oos_recall"] <= hi
    assert 0.0 <= figures["accuracy"] <= 1.0


def test_evaluate_without_oos_rows_omits_oos_keys_and_writes_a_report(
    trained: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(trained),
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--json",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert set(figures) == {"accuracy", "accuracy_ci95", "macro_f1", "n"}
    text = (report / "report.md").read_text()
    assert "| track_order |" in text
    assert (report / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_prints_per_class_table(trained: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "--model", str(trained), "--data", str(FIXTURES / "intents_tiny.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "macro_f1" in result.output
    assert "recover_password" in result.output


def test_train_names_a_missing_column(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--text-column",
            "body",
            "--label-column",
            "label",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2
    assert "no column 'body'" in result.output
    assert not (tmp_path / "m").exists()


def test_evaluate_refuses_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "--model", str(tmp_path), "--data", str(FIXTURES / "intents_tiny.csv")]
    )
    assert result.exit_code == 2
    assert "manifest.json" in result.output


def test_split_is_stratified_and_complete(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "split",
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--out-dir",
            str(tmp_path),
            "--test-size",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "train.csv").open() as fh:
        train = list(csv.DictReader(fh))
    with (tmp_path / "test.csv").open() as fh:
        test = list(csv.DictReader(fh))
    assert len(train) + len(test) == 24
    assert {r["label"] for r in test} == {r["label"] for r in train}
