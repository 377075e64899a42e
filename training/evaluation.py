"""Classification metrics, including out-of-scope handling, for `triage evaluate`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def wilson_interval(successes: int, n: int, *, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); (0, 1) when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall and F1 of one label."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    """Everything `triage evaluate` prints and writes."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassMetrics, ...]
    labels: tuple[str, ...]
    confusion: list[list[int]]
    in_scope_accuracy: float | None = None
    oos_recall: float | None = None
    oos_precision: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The JSON object of ``--json``: headline figures only."""
        out: dict[str, Any] = {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n": self.n,
        }
        if self.in_scope_accuracy is not None:
            out["in_scope_accuracy"] = round(self.in_scope_accuracy, 4)
        if self.oos_recall is not None:
            out["oos_recall"] = round(self.oos_recall, 4)
        out.update(self.extra)
        return out


def evaluate_labels(
    y_true: Sequence[str], y_pred: Sequence[str], *, oos_label: str | None = None
) -> EvaluationReport:
    """Score predictions against gold labels.

    When the gold labels contain ``oos_label``: ``in_scope_accuracy`` counts an in-scope
    message as right only when given its own intent (rejecting it is wrong), and
    ``oos_recall`` is the share of out-of-scope messages that were rejected; both come
    with 95 % Wilson intervals (``*_ci95``), as does ``accuracy``.
    """

    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    if not y_true:
        raise ValueError("nothing to evaluate")
    true = np.array(y_true, dtype=object)
    pred = np.array(y_pred, dtype=object)
    labels = tuple(sorted(set(y_true) | set(y_pred)))
    gold_labels = sorted(set(y_true))
    p, r, f, s = precision_recall_fscore_support(true, pred, labels=gold_labels, zero_division=0)
    per_class = tuple(
        ClassMetrics(label, float(pi), float(ri), float(fi), int(si))
        for label, pi, ri, fi, si in zip(gold_labels, p, r, f, s, strict=True)
    )
    in_scope_accuracy = oos_recall = oos_precision = None
    hits = true == pred
    extra: dict[str, Any] = {"accuracy_ci95": _ci(int(hits.sum()), len(hits))}
    if oos_label is not None and oos_label in set(y_true):
        is_oos = true == oos_label
        in_scope_accuracy = (
            float((pred[~is_oos] == true[~is_oos]).mean()) if (~is_oos).any() else None
        )
        oos_recall = float((pred[is_oos] == oos_label).mean())
        if in_scope_accuracy is not None:
            extra["in_scope_accuracy_ci95"] = _ci(int(hits[~is_oos].sum()), int((~is_oos).sum()))
        extra["oos_recall_ci95"] = _ci(int((pred[is_oos] == oos_label).sum()), int(is_oos.sum()))
        rejected = pred == oos_label
        oos_precision = float(is_oos[rejected].mean()) if rejected.any() else 0.0
    cm = confusion_matrix(true, pred, labels=list(labels))
    return EvaluationReport(
        n=len(y_true),
        accuracy=float((true == pred).mean()),
        macro_f1=float(np.mean(f)),
        per_class=per_class,
        labels=labels,
        confusion=cm.tolist(),
        in_scope_accuracy=in_scope_accuracy,
        oos_recall=oos_recall,
        oos_precision=oos_precision,
        extra=extra,
    )


def _ci(successes: int, n: int) -> list[float]:
    lo, hi = wilson_interval(successes, n)
    return [round(lo, 4), round(hi, 4)]
