"""`triage kb build-faq`: a FAQ collection with disjoint dev and test queries from Q/A rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import app
from training.faq_collection import build_faq_collection

runner = CliRunner()
TOPICS = {
    "refund": ("How long does a refund take", "Refunds arrive within five business days."),
    "delivery": ("When will my parcel arrive", "Parcels arrive within two business days."),
    "password": ("How do I reset my password", "Use the reset link on the sign-in page."),
}


def _write_rows(path: Path, per_topic: int = 8) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["instruction", "response", "intent"])
        writer.writeheader()
        for intent, (question, answer) in TOPICS.items():
            writer.writerow({"instruction": question, "response": answer, "intent": intent})
            for n in range(per_topic):
                writer.writerow(
                    {
                        "instruction": f"{question.lower()} {n}?",
                        "response": answer,
                        "intent": intent,
                    }
                )
    return path


def _read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_entry_per_group_and_disjoint_query_sets(tmp_path: Path) -> None:
    built = build_faq_collection(
        _write_rows(tmp_path / "qa.csv"), tmp_path / "faq", dev_per_entry=2, test_per_entry=3
    )
    assert (built.entries, built.dev_queries, built.test_queries) == (3, 6, 9)
    documents = _read(tmp_path / "faq" / "faq.jsonl")
    assert sorted(d["id"] for d in documents) == ["faq-delivery", "faq-password", "faq-refund"]
    # The heading-like question (capitalised, no digits) becomes the entry's title.
    assert {d["title"] for d in documents} == {q for q, _ in TOPICS.values()}
    dev = _read(tmp_path / "faq" / "dev_queries.jsonl")
    test = _read(tmp_path / "faq" / "test_queries.jsonl")
    assert not {q["query"] for q in dev} & {q["query"] for q in test}
    titles = {d["title"] for d in documents}
    assert not titles & {q["query"] for q in dev + test}


def test_too_few_rows_and_missing_columns_are_clear_errors(tmp_path: Path) -> None:
    from models.errors import InvalidInputError

    data = _write_rows(tmp_path / "qa.csv", per_topic=3)
    with pytest.raises(InvalidInputError, match="fewer than"):
        build_faq_collection(data, tmp_path / "faq", dev_per_entry=2, test_per_entry=2)
    with pytest.raises(InvalidInputError, match="no column"):
        build_faq_collection(data, tmp_path / "faq", answer_column="reply")


def test_build_faq_command_writes_the_collection(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "kb",
            "build-faq",
            "--data",
            str(_write_rows(tmp_path / "qa.csv")),
            "--out",
            str(tmp_path / "faq"),
            "--dev-per-entry",
            "2",
            "--test-per-entry",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 entries, 6 dev queries, 6 test queries" in result.output
    bad = runner.invoke(
        app,
        [
            "kb",
            "build-faq",
            "--data",
            str(tmp_path / "qa.csv"),
            "--out",
            str(tmp_path / "x"),
            "--group-column",
            "topic",
        ],
    )
    assert bad.exit_code == 2
    assert "no column(s) topic" in bad.output


@pytest.mark.encoder
def test_tune_fusion_records_weights_that_evaluate_then_uses(tmp_path: Path) -> None:
    folder, index = tmp_path / "faq", tmp_path / "index"
    build_faq_collection(
        _write_rows(tmp_path / "qa.csv"), folder, dev_per_entry=3, test_per_entry=3
    )
    assert runner.invoke(app, ["kb", "ingest", str(folder), "--index", str(index)]).exit_code == 0
    dev = str(folder / "dev_queries.jsonl")
    tuned = runner.invoke(
        app, ["kb", "tune-fusion", "--index", str(index), "--queries", dev, "--json"]
    )
    assert tuned.exit_code == 0, tuned.output
    choice = json.loads(tuned.output.strip().splitlines()[-1])
    for mode in ("dense", "bm25", "title"):
        assert choice["hybrid"]["recall@1"] >= choice[mode]["recall@1"], mode
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["params"]["fusion"] == choice["fusion"]
    evaluated = runner.invoke(
        app, ["kb", "evaluate", "--index", str(index), "--queries", dev, "--mode", "all", "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    figures = json.loads(evaluated.output.strip().splitlines()[-1])
    assert figures["fusion"] == choice["fusion"]
    assert figures["hybrid"]["recall@1"] == choice["hybrid"]["recall@1"]
    missing = runner.invoke(
        app, ["kb", "tune-fusion", "--index", str(tmp_path / "none"), "--queries", dev]
    )
    assert missing.exit_code == 2
    assert "no index folder" in missing.output
