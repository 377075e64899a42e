"""`triage tickets import` end to end, and its output through `triage train`/`evaluate`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.ticket_exports import SAMPLES, TICKETS, WEB_CHAT_COLUMNS
from training.cli import app

runner = CliRunner()


def _summary(output: str) -> dict[str, object]:
    return dict(json.loads(output.strip().splitlines()[-1]))


def test_import_writes_training_csv_drop_list_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "data.csv"
    result = runner.invoke(
        app,
        [
            "tickets",
            "import",
            str(TICKETS / "zendesk_api.json"),
            "--format",
            "zendesk",
            "--mapping",
            str(TICKETS / "mapping.yaml"),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = _summary(result.stdout)
    assert summary["read"] == 7 and summary["kept"] == 2
    assert summary["dropped"] == {
        "spam": 1,
        "empty_after_cleaning": 1,
        "language": 1,
        "no_mapping": 1,
        "duplicate": 1,
    }
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], r["label"], r["urgency"]) for r in rows] == [
        ("101", "internet_down", "critical"),
        ("102", "cancel_contract", ""),
    ]
    dropped = tmp_path / "data.dropped.csv"
    assert summary["dropped_list"] == str(dropped)
    with dropped.open(encoding="utf-8") as fh:
        assert [r["reason"] for r in csv.DictReader(fh)] == [
            "spam",
            "language",
            "no_mapping",
            "empty_after_cleaning",
            "duplicate",
        ]


def test_import_table_names_what_happens_to_other_languages(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "tickets",
            "import",
            str(TICKETS / "generic.csv"),
            "--format",
            "csv",
            "--column",
            "id=Ref",
            "--column",
            "text=Message",
            "--column",
            "subject=Title",
            "--column",
            "type=Category",
            "--column",
            "priority=Urgency",
            "--out",
            str(tmp_path / "generic.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    # Without --mapping the category is the intent.
    with (tmp_path / "generic.csv").open(encoding="utf-8") as fh:
        labels = [r["label"] for r in csv.DictReader(fh)]
    assert labels == ["account_cancel_contract", "network_broadband_down", "general_enquiry"]
    assert "not a supported language" in result.stdout
    assert "priorities without an urgency level" in result.stdout  # P1/P3/P4 unmapped


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "zendesk", "--mapping", str(TICKETS / "generic.csv")], "mapping"),
        (["--format", "zendesk", "--column", "id=Ref"], "--column applies to --format csv"),
        (["--format", "csv", "--languages", "en,xx"], "--languages"),
    ],
)
def test_import_errors_exit_2_with_the_reason(
    tmp_path: Path, args: list[str], message: str
) -> None:
    source = TICKETS / ("generic.csv" if "csv" in args else "zendesk_api.json")
    result = runner.invoke(
        app, ["tickets", "import", str(source), "--out", str(tmp_path / "o.csv"), *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_import_refuses_to_write_an_empty_training_file(tmp_path: Path) -> None:
    mapping = tmp_path / "nothing.yaml"
    mapping.write_text("intents:\n  - intent: x\n    tags: [never_used]\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "tickets",
            "import",
            str(TICKETS / "freshdesk_export.csv"),
            "--format",
            "freshdesk",
            "--mapping",
            str(mapping),
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "every ticket was dropped" in result.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.encoder
def test_imported_export_trains_and_evaluates_with_triage_train(tmp_path: Path) -> None:
    """Import the sample web/chat export, hold out a stratified part, train, evaluate."""
    data = tmp_path / "web_chat.csv"
    result = runner.invoke(
        app,
        [
            "tickets",
            "import",
            str(SAMPLES / "web_chat_tickets.csv"),
            "--format",
            "csv",
            *[arg for c in WEB_CHAT_COLUMNS for arg in ("--column", c)],
            "--mapping",
            str(SAMPLES / "mapping.yaml"),
            "--out",
            str(data),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    split = runner.invoke(
        app,
        ["split", "--data", str(data), "--out-dir", str(tmp_path / "split"), "--test-size", "0.25"],
    )
    assert split.exit_code == 0, split.output
    model = tmp_path / "model"
    train = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "split" / "train.csv"),
            "--category-column",
            "category",
            "--out",
            str(model),
            "--name",
            "northwave-test",
            "--version",
            "1",
        ],
    )
    assert train.exit_code == 0, train.output
    manifest = json.loads((model / "manifest.json").read_text())
    assert len(manifest["labels"]) == 12
    assert manifest["params"]["categories"]["no_signal"] == "NETWORK"
    evaluate = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(tmp_path / "split" / "test.csv"),
            "--model",
            str(model),
            "--json",
        ],
    )
    assert evaluate.exit_code == 0, evaluate.output
    figures = json.loads(evaluate.stdout.strip().splitlines()[-1])
    assert figures["n"] >= 40
    assert figures["accuracy"] >= 0.8
