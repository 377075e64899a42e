"""The held-out evaluation sets stay well-formed: the fields their readers rely on, labels
from the rubric, and conversations that /v1/respond (and /v1/summarize) accept as history."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from service.schemas import TurnIn

DATA = Path(__file__).resolve().parents[2] / "training" / "data"
URGENCY_TEST = DATA / "urgency" / "test_independent.jsonl"
PROMISES = DATA / "conversations" / "promises.jsonl"
PROMISES_TEST2 = DATA / "conversations" / "promises_test2.jsonl"
DOMAINS = {"shops", "telecoms", "software", "travel", "banking", "utilities"}
SITUATIONS = {
    "harm_to_person",
    "medical_need",
    "unsafe_product",
    "money_taken_without_consent",
    "account_taken_over",
    "data_leak",
    "legal_threat",
    "harassment_or_threat",
}
PROMISE_TYPES = {
    "refund_promised",
    "replacement_sent",
    "callback_booked",
    "escalated",
    "discount_offered",
    "credit_applied",
    "billing_adjusted",
    "visit_booked",
    "booking_changed",
    "account_secured",
    "fix_applied",
    "cancellation_confirmed",
    "investigation_opened",
    "document_sent",
    "follow_up_promised",
}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_urgency_test_set_follows_the_rubric() -> None:
    rows = _rows(URGENCY_TEST)
    assert len(rows) >= 400
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["text"] for r in rows}) == len(rows)
    levels = Counter(r["level"] for r in rows)
    assert set(levels) == {"low", "normal", "high", "critical"}
    assert 0.15 <= levels["critical"] / len(rows) <= 0.20
    for r in rows:
        assert r["split"] == "test"
        assert r["kind"] in {"chat", "tweet", "email", "form"}
        assert r["domain"] in DOMAINS
        assert r["text"].strip()
        if r["level"] == "critical":
            assert r["situation"] in SITUATIONS, r["id"]
        else:
            assert "situation" not in r, r["id"]
    assert {r["domain"] for r in rows} == DOMAINS


@pytest.mark.parametrize("path", [PROMISES, PROMISES_TEST2], ids=["dev", "held_out"])
def test_conversations_are_valid_respond_history_with_consistent_labels(path: Path) -> None:
    rows = _rows(path)
    assert len(rows) >= 60
    history = TypeAdapter(list[TurnIn])
    for conv in rows:
        turns = history.validate_python(conv["history"])
        labels = conv["labels"]
        assert conv["domain"] in DOMAINS
        assert labels["sentiment_trend"] in {"improving", "stable", "worsening"}
        text = " ".join(t.text for t in turns)
        for entity in labels["entities"]:
            assert entity["value"] in text, (conv["id"], entity)
        for item in labels["promises"] + labels["negated"]:
            assert item["type"] in PROMISE_TYPES, (conv["id"], item)
            assert turns[item["turn"]].role == "agent", (conv["id"], item)
        for promise in labels["promises"]:
            assert promise["status"] in {"made", "conditional"}
            assert ("condition" in promise) == (promise["status"] == "conditional")
    assert Counter(c["domain"] for c in rows).most_common()[-1][1] >= 5
