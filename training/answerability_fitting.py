"""Fitting the drafts' answerability gate: when is the knowledge base relevant enough?

Answerable examples are the help centre's development queries (every one has a relevant
article); unanswerable ones are CLINC150 queries from intents that have nothing to do
with an online shop (the overlapping intents are left out). Each query goes through the
service's own retrieval and scoring path (``SuggestionService.check``); the threshold is
the relevance that maximises balanced accuracy between the two sets, and a one-feature
logistic regression gives the probability reported as draft confidence. Bitext
messages, on which drafts are evaluated, are never used here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.draft_request import DraftRequest
from service.drafting.suggestion_service import SuggestionService


@dataclass(frozen=True)
class GateFit:
    """The fitted gate and the figures behind it."""

    gate: AnswerabilityGate
    metrics: dict[str, Any]
    positives: tuple[float, ...]
    negatives: tuple[float, ...]


def relevances(
    service: SuggestionService,
    queries: Sequence[str],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[float]:
    """The gate's input feature for each query, computed the way the service does."""
    out = []
    for query in queries:
        out.append(service.check(DraftRequest(text=query)).relevance)
        if progress is not None:
            progress(1)
    return out


def best_threshold(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The cut that maximises balanced accuracy (ties: the lower, more answering cut)."""
    pos = np.asarray(positives)
    neg = np.asarray(negatives)
    candidates = np.unique(np.concatenate([pos, neg]))
    best, best_value = float(candidates[0]), -1.0
    for t in candidates:
        value = float((pos >= t).mean() + (neg < t).mean())
        if value > best_value + 1e-12:
            best, best_value = float(t), value
    # Midway to the next lower observed value: the cut should not sit on a data point.
    lower = candidates[candidates < best]
    return round((best + float(lower.max())) / 2, 4) if len(lower) else round(best, 4)


def fit_gate(positives: Sequence[float], negatives: Sequence[float], *, version: str) -> GateFit:
    """Threshold and logistic curve from the two sets of relevances."""
    threshold = best_threshold(positives, negatives)
    x = np.asarray([*positives, *negatives], dtype=np.float64).reshape(-1, 1)
    y = np.asarray([1] * len(positives) + [0] * len(negatives))
    model = LogisticRegression(class_weight="balanced", C=100.0).fit(x, y)
    slope = float(model.coef_[0][0])
    intercept = float(model.intercept_[0])
    gate = AnswerabilityGate(
        threshold=threshold, slope=round(slope, 4), intercept=round(intercept, 4), version=version
    )
    pos = np.asarray(positives)
    neg = np.asarray(negatives)
    metrics = {
        "threshold": threshold,
        "answerable_queries": len(pos),
        "off_topic_queries": len(neg),
        "answered_share_of_answerable": round(float((pos >= threshold).mean()), 4),
        "held_share_of_off_topic": round(float((neg < threshold).mean()), 4),
        "balanced_accuracy": round(
            float(((pos >= threshold).mean() + (neg < threshold).mean()) / 2), 4
        ),
        "relevance_percentiles_answerable": {
            str(q): round(float(np.percentile(pos, q)), 4) for q in (5, 10, 25, 50)
        },
        "relevance_percentiles_off_topic": {
            str(q): round(float(np.percentile(neg, q)), 4) for q in (50, 75, 90, 95)
        },
    }
    return GateFit(
        gate=gate, metrics=metrics, positives=tuple(positives), negatives=tuple(negatives)
    )
