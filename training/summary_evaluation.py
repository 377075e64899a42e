"""How well the hand-off summary finds agent commitments, on labelled conversations.

The labelled set (``training/data/conversations/promises.jsonl``, written apart from the
detector) names each promise by a type of its own vocabulary, the agent turn that made it
and whether it was conditional, plus the commitments an agent refused or took back. A
predicted commitment matches a labelled promise when the kinds correspond
(``LABEL_KINDS``) and the turn agrees. Scored:

* promise precision and recall (declined predictions are not promises);
* refusals reported as promises (each is a false positive that matters most: a summary
  saying "refund promised" when the agent said "we can't refund");
* conditional promises that came back marked conditional.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.commitment_detector import CommitmentDetector, CommitmentKind, CommitmentStatus
from models.triager import ConversationTurn

#: The labelled set's promise types and the detector's kinds.
LABEL_KINDS: dict[str, CommitmentKind] = {
    "refund_promised": CommitmentKind.REFUND,
    "replacement_sent": CommitmentKind.REPLACEMENT,
    "callback_booked": CommitmentKind.CALLBACK,
    "escalated": CommitmentKind.ESCALATION,
    "discount_offered": CommitmentKind.DISCOUNT,
    "credit_applied": CommitmentKind.CREDIT,
    "billing_adjusted": CommitmentKind.BILLING_ADJUSTMENT,
    "visit_booked": CommitmentKind.VISIT,
    "booking_changed": CommitmentKind.BOOKING_CHANGE,
    "account_secured": CommitmentKind.ACCOUNT_SECURED,
    "fix_applied": CommitmentKind.FIX,
    "cancellation_confirmed": CommitmentKind.CANCELLATION,
    "investigation_opened": CommitmentKind.INVESTIGATION,
    "document_sent": CommitmentKind.DOCUMENT,
    "follow_up_promised": CommitmentKind.FOLLOW_UP,
}


@dataclass
class CommitmentScores:
    """Counts over a labelled set, and the errors for reading."""

    conversations: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    refusals: int = 0
    refusals_reported_as_promises: int = 0
    conditional: int = 0
    conditional_marked: int = 0
    missed_by_kind: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Predicted promises that are labelled promises."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        """Labelled promises that were predicted."""
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "conversations": self.conversations,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "refusals": self.refusals,
            "refusals_reported_as_promises": self.refusals_reported_as_promises,
            "conditional": self.conditional,
            "conditional_marked": self.conditional_marked,
            "missed_by_kind": dict(self.missed_by_kind),
        }


def read_conversations(path: Path) -> list[dict[str, Any]]:
    """The labelled conversations, one JSON object per line."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate_commitments(
    conversations: Iterable[dict[str, Any]], detector: CommitmentDetector | None = None
) -> CommitmentScores:
    """Score the detector on labelled conversations (module docstring)."""
    detector = detector or CommitmentDetector()
    scores = CommitmentScores()
    for conversation in conversations:
        scores.conversations += 1
        turns = [ConversationTurn(t["role"], t["text"]) for t in conversation["history"]]
        labels = conversation["labels"]
        found = detector.detect(turns)
        promised = {(c.kind, c.turn): c for c in found if c.status is not CommitmentStatus.DECLINED}
        expected = {(LABEL_KINDS[p["type"]], p["turn"]): p for p in labels["promises"]}
        for key, label in expected.items():
            if key in promised:
                scores.true_positives += 1
                if label["status"] == "conditional":
                    scores.conditional += 1
                    scores.conditional_marked += promised[key].conditional
            else:
                scores.false_negatives += 1
                if label["status"] == "conditional":
                    scores.conditional += 1
                scores.missed_by_kind[label["type"]] += 1
                scores.errors.append(
                    f"{conversation['id']} missed {label['type']} at turn {label['turn']}: "
                    f"{turns[label['turn']].text[:120]!r}"
                )
        refused = {(LABEL_KINDS[n["type"]], n["turn"]) for n in labels.get("negated", [])}
        scores.refusals += len(refused)
        for key, commitment in promised.items():
            if key in expected:
                continue
            scores.false_positives += 1
            if key in refused:
                scores.refusals_reported_as_promises += 1
            scores.errors.append(
                f"{conversation['id']} extra {commitment.kind.value}/{commitment.status.value} "
                f"at turn {commitment.turn}: {commitment.sentence[:120]!r}"
            )
    return scores
