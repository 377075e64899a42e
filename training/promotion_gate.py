"""Whether a retrained intent model may replace the active one.

Both models are scored on the same held-out rows, encoded once. The candidate passes when
its macro-F1 is not below the active model's and no intent's F1 drops by more than a
margin: a retrain that fixes one systematic mistake must not quietly break another intent,
and "better on average" is not enough when a queue loses its messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.errors import InvalidInputError
from models.intent_classifier import IntentClassifier, IntentPrediction
from training.evaluation import EvaluationReport, evaluate_labels

#: Reliability-diagram bins (equal width over confidence).
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    """Predictions whose confidence falls in ``[low, high)``."""

    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class ModelScores:
    """One model's predictions on the held-out rows and what they add up to."""

    version: str
    report: EvaluationReport
    predicted: tuple[str, ...]
    confidences: tuple[float, ...]
    #: Reliability of accepted (in-scope) predictions, and their expected calibration error.
    calibration: tuple[CalibrationBin, ...]
    ece: float
    #: Accuracy on the held-out rows that came from agents' corrections (``None``
    #: when none were held out): the systematic mistake the retrain is for.
    corrections_accuracy: float | None

    def f1(self, label: str) -> float:
        """F1 of ``label`` on the held-out rows (0 when the label had no rows)."""
        return next((c.f1 for c in self.report.per_class if c.label == label), 0.0)


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], *, bins: int = CALIBRATION_BINS
) -> tuple[tuple[CalibrationBin, ...], float]:
    """Reliability bins and the expected calibration error (count-weighted gap between
    confidence and accuracy)."""
    conf = np.asarray(confidences, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out: list[CalibrationBin] = []
    ece = 0.0
    for i in range(bins):
        last = i == bins - 1
        mask = (conf >= edges[i]) & ((conf <= edges[i + 1]) if last else (conf < edges[i + 1]))
        n = int(mask.sum())
        if n == 0:
            continue
        mean_conf, acc = float(conf[mask].mean()), float(ok[mask].mean())
        out.append(CalibrationBin(float(edges[i]), float(edges[i + 1]), n, mean_conf, acc))
        ece += n * abs(mean_conf - acc)
    return tuple(out), (ece / len(conf) if len(conf) else 0.0)


def score_model(
    version: str,
    gold: Sequence[str],
    predictions: Sequence[IntentPrediction],
    *,
    oos_label: str,
    from_corrections: Sequence[bool],
) -> ModelScores:
    """Score one model's held-out predictions.

    Args:
        version: ``name@version`` of the model.
        gold: held-out labels.
        predictions: the model's decisions on the same rows, in order.
        oos_label: the out-of-scope label (a rejection of an in-scope row is wrong).
        from_corrections: which rows came from agents' corrections.
    """
    predicted = tuple(p.label for p in predictions)
    report = evaluate_labels(list(gold), list(predicted), oos_label=oos_label)
    correct = [p == g for p, g in zip(predicted, gold, strict=True)]
    # Calibration of the intents the model accepts: a rejection's confidence is how sure
    # it is that the message is out of scope, not the probability of a right intent, and
    # routing acts on the accepted ones.
    accepted = [i for i, p in enumerate(predictions) if not p.out_of_scope]
    calibration, ece = reliability(
        [predictions[i].confidence for i in accepted], [correct[i] for i in accepted]
    )
    picked = [ok for ok, fb in zip(correct, from_corrections, strict=True) if fb]
    return ModelScores(
        version=version,
        report=report,
        predicted=predicted,
        confidences=tuple(p.confidence for p in predictions),
        calibration=calibration,
        ece=ece,
        corrections_accuracy=float(np.mean(picked)) if picked else None,
    )


@dataclass(frozen=True)
class IntentChange:
    """One intent's F1 on the held-out rows under each model."""

    label: str
    support: int
    active_f1: float
    candidate_f1: float

    @property
    def delta(self) -> float:
        """Candidate minus active."""
        return self.candidate_f1 - self.active_f1


@dataclass(frozen=True)
class Verdict:
    """The gate's decision and, when it refuses, every reason."""

    promote: bool
    reasons: tuple[str, ...]
    changes: tuple[IntentChange, ...]
    max_intent_drop: float


def judge(active: ModelScores, candidate: ModelScores, *, max_intent_drop: float) -> Verdict:
    """Promote only when the candidate's macro-F1 is not below the active model's and no
    intent's F1 drops by more than ``max_intent_drop``."""
    if not 0.0 <= max_intent_drop <= 1.0:
        raise ValueError("max_intent_drop must be within [0, 1]")
    reasons: list[str] = []
    a, c = active.report.macro_f1, candidate.report.macro_f1
    # Rounded like the report, so a difference nobody can see does not decide.
    if round(c, 4) < round(a, 4):
        reasons.append(f"macro-F1 {c:.4f} is below the active model's {a:.4f}")
    changes = tuple(
        IntentChange(
            label=cls.label,
            support=cls.support,
            active_f1=cls.f1,
            candidate_f1=candidate.f1(cls.label),
        )
        for cls in active.report.per_class
    )
    for change in sorted(changes, key=lambda ch: ch.delta):
        if -change.delta > max_intent_drop + 1e-9:
            reasons.append(
                f"{change.label}: F1 {change.active_f1:.3f} -> {change.candidate_f1:.3f} "
                f"(drop {-change.delta:.3f} > margin {max_intent_drop:.3f}, "
                f"{change.support} rows)"
            )
    return Verdict(
        promote=not reasons,
        reasons=tuple(reasons),
        changes=changes,
        max_intent_drop=max_intent_drop,
    )


@dataclass(frozen=True)
class Comparison:
    """Both models scored on the same held-out rows, and the gate's verdict."""

    gold: tuple[str, ...]
    active: ModelScores
    candidate: ModelScores
    verdict: Verdict


def compare_models(
    active: IntentClassifier,
    candidate: IntentClassifier,
    *,
    texts: Sequence[str],
    gold: Sequence[str],
    from_corrections: Sequence[bool],
    max_intent_drop: float,
) -> Comparison:
    """Encode the held-out texts once, score both models on them and judge."""
    from training.intent_training import encode_texts

    if active.encoder.model_id != candidate.encoder.model_id:
        raise InvalidInputError(
            f"the candidate was trained on encoder {candidate.encoder.model_id!r}, the active "
            f"model serves on {active.encoder.model_id!r}; they cannot be compared"
        )
    embeddings = encode_texts(candidate.encoder, texts, desc="encoding held-out rows")
    vectors = embeddings.astype(np.float32)
    scores = [
        score_model(
            model.version,
            gold,
            model.predict_read(texts, vectors),
            oos_label=candidate.oos_label,
            from_corrections=from_corrections,
        )
        for model in (active, candidate)
    ]
    verdict = judge(scores[0], scores[1], max_intent_drop=max_intent_drop)
    return Comparison(tuple(gold), scores[0], scores[1], verdict)
