"""`triage drafts fit-gate` fits a gate artifact the service can load."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.drafting.answerability_gate import AnswerabilityGate
from training.cli import app
from training.command_helpers import load_encoder

pytestmark = pytest.mark.encoder

runner = CliRunner()

QUERIES = (
    ("where is my parcel, ordered last week", "hc-track-order"),
    ("how do I return a jacket that does not fit", "hc-return-item"),
    ("can I change the address on my order", "hc-change-address"),
)
OFF_TOPIC = (
    ("what is the capital of peru", "geography"),
    ("set an alarm for 7 tomorrow morning", "alarm"),
    ("how many calories are in a banana", "nutrition_info"),
    ("tell me a joke about penguins", "tell_joke"),
)


def test_fit_gate_writes_a_gate_the_service_loads(tmp_path: Path) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        "".join(json.dumps({"query": q, "relevant": [doc]}) + "\n" for q, doc in QUERIES)
    )
    negatives = tmp_path / "negatives.csv"
    with negatives.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(OFF_TOPIC)
    out = tmp_path / "gate"
    options = {"--negatives": negatives, "--queries": queries, "--out": out, "--version": "t1"}
    args = [part for pair in options.items() for part in (pair[0], str(pair[1]))]
    result = runner.invoke(app, ["drafts", "fit-gate", *args])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["answerable_queries"] == len(QUERIES)
    assert manifest["metrics"]["off_topic_queries"] == len(OFF_TOPIC)
    assert manifest["training_data"]["retrieved_per_query"] >= 1
    gate = AnswerabilityGate.from_artifact(out, encoder=load_encoder())
    assert gate.version == "answerability-gate@t1"
