"""Scoring of agent commitments against labelled conversations, and the CLI over the
shipped labelled set."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from training.cli import app
from training.summary_evaluation import evaluate_commitments

CONVERSATIONS = [
    {
        "id": "a",
        "history": [
            {"role": "customer", "text": "My parcel 4411829 never came."},
            {"role": "agent", "text": "Sorry! I've issued a full refund to your card."},
            {"role": "customer", "text": "Can I also get a discount next time?"},
            {"role": "agent", "text": "I'm afraid we can't offer a discount on top."},
        ],
        "labels": {
            "promises": [{"type": "refund_promised", "turn": 1, "status": "made"}],
            "negated": [{"type": "discount_offered", "turn": 3}],
        },
    },
    {
        "id": "b",
        "history": [
            {"role": "customer", "text": "The kettle leaks."},
            {
                "role": "agent",
                "text": "If it still leaks after descaling, we will send a replacement.",
            },
            {"role": "agent", "text": "A colleague will call you back tomorrow."},
        ],
        "labels": {
            "promises": [
                {"type": "replacement_sent", "turn": 1, "status": "conditional"},
                {"type": "escalated", "turn": 2, "status": "made"},
            ],
            "negated": [],
        },
    },
]


def test_scores_count_hits_misses_extras_and_conditions() -> None:
    scores = evaluate_commitments(CONVERSATIONS)
    assert scores.conversations == 2
    # refund and the conditional replacement found; escalation missed; the callback
    # reported at turn 2 is an extra (it is labelled as an escalation).
    assert (scores.true_positives, scores.false_negatives) == (2, 1)
    assert scores.false_positives == 1
    assert scores.refusals == 1 and scores.refusals_reported_as_promises == 0
    assert (scores.conditional, scores.conditional_marked) == (1, 1)
    assert scores.missed_by_kind == {"escalated": 1}
    assert scores.precision == 2 / 3 and scores.recall == 2 / 3


def test_cli_reports_the_shipped_set(tmp_path: Path) -> None:
    report = tmp_path / "summaries.json"
    result = CliRunner().invoke(app, ["summaries", "evaluate", "--report", str(report)])
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())
    assert figures["conversations"] >= 60
    assert figures["true_positives"] + figures["false_negatives"] >= 90
    assert f"precision {figures['precision']:.3f}" in result.output
