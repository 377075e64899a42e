"""Train and evaluate the urgency model on the hand-written urgency data set.

The data set (``training/data/urgency/urgency_messages.jsonl``) has a fixed ``split``
column. ``train`` and ``dev`` together fit the model; cross-validation over them picks
the regularisation, the signal weight and the critical threshold. ``test`` (written
separately, with adversarial cases) is only ever used for the reported figures.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from models.message_analyzer import MessageAnalyzer
from models.protocols import Encoder
from models.urgency_classifier import (
    LEVELS,
    UrgencyClassifier,
    UrgencyHeads,
    decide_levels,
    feature_matrix,
)
from models.urgency_signals import UrgencySignals

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "urgency" / "urgency_messages.jsonl"
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
SCALE_GRID = (0.5, 1.0, 2.0)
# Cost of each error on the dev split: a missed critical weighs ten ordinary mistakes.
MISSED_CRITICAL_COST = 10.0
FOLDS = 5


@dataclass(frozen=True)
class UrgencyExample:
    """One labelled message of the data set."""

    id: str
    text: str
    level: str
    split: str
    kind: str
    prior_contacts: int
    adversarial: bool


@dataclass
class Prepared:
    """Model inputs of a set of examples."""

    examples: list[UrgencyExample]
    embeddings: npt.NDArray[np.float32]
    signals: list[UrgencySignals]
    y: npt.NDArray[np.int64]


def read_examples(path: Path) -> list[UrgencyExample]:
    """Rows of the JSONL data set; raises ValueError naming the bad line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if raw["level"] not in LEVELS or raw["split"] not in {"train", "dev", "test"}:
                raise ValueError(f"bad level or split {raw['level']!r}/{raw['split']!r}")
            rows.append(
                UrgencyExample(
                    id=str(raw["id"]),
                    text=str(raw["text"]),
                    level=str(raw["level"]),
                    split=str(raw["split"]),
                    kind=str(raw.get("kind", "chat")),
                    prior_contacts=int(raw.get("prior_contacts", 0)),
                    adversarial=bool(raw.get("adversarial", False)),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: {exc}") from exc
    return rows


def data_hash(path: Path) -> str:
    """sha256 of the data file, for the manifest."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(
    examples: Sequence[UrgencyExample], *, encoder: Encoder, analyzer: MessageAnalyzer
) -> Prepared:
    """Clean, analyse and embed examples exactly as the live pipeline does."""
    analyses = [analyzer.analyze(e.text, prior_contacts=e.prior_contacts) for e in examples]
    embeddings = encoder.encode([a.focus_text for a in analyses])
    return Prepared(
        examples=list(examples),
        embeddings=embeddings,
        signals=[a.signals for a in analyses],
        y=np.array([LEVELS.index(e.level) for e in examples], dtype=np.int64),
    )


def _fit(
    data: Prepared, *, c: float, scale: float, seed: int = 0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    x = feature_matrix(data.embeddings, data.signals, signal_scale=scale)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    model.fit(x, data.y)
    return model.coef_.astype(np.float32), model.intercept_.astype(np.float32)


def _cost(y: npt.NDArray[np.int64], pred: npt.NDArray[np.int64]) -> float:
    critical = LEVELS.index("critical")
    missed = np.sum((y == critical) & (pred != critical))
    other = np.sum((y != pred) & ~((y == critical) & (pred != critical)))
    return float(MISSED_CRITICAL_COST * missed + other)


def fit_threshold(y: npt.NDArray[np.int64], proba: npt.NDArray[np.float64]) -> float:
    """Critical threshold with the lowest validation cost (median of the tied ones)."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    costs = np.array([_cost(y, decide_levels(proba, critical_threshold=float(t))) for t in grid])
    tied = grid[costs == costs.min()]
    return float(tied[len(tied) // 2])


def _subset(data: Prepared, idx: npt.NDArray[np.int64]) -> Prepared:
    return Prepared(
        examples=[data.examples[i] for i in idx],
        embeddings=data.embeddings[idx],
        signals=[data.signals[i] for i in idx],
        y=data.y[idx],
    )


def concat(parts: Sequence[Prepared]) -> Prepared:
    """One prepared set made of several."""
    return Prepared(
        examples=[e for p in parts for e in p.examples],
        embeddings=np.vstack([p.embeddings for p in parts]),
        signals=[s for p in parts for s in p.signals],
        y=np.concatenate([p.y for p in parts]),
    )


def out_of_fold_proba(
    data: Prepared, *, c: float, scale: float, folds: int = FOLDS, seed: int = 0
) -> npt.NDArray[np.float64]:
    """Probabilities for every example from a model that did not see it (stratified k-fold)."""
    proba = np.zeros((len(data.y), len(LEVELS)), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, val_idx in splitter.split(np.zeros(len(data.y)), data.y):
        fit = _subset(data, fit_idx.astype(np.int64))
        val = _subset(data, val_idx.astype(np.int64))
        coef, intercept = _fit(fit, c=c, scale=scale, seed=seed)
        x = feature_matrix(val.embeddings, val.signals, signal_scale=scale)
        z = x @ coef.T.astype(np.float64) + intercept.astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        proba[val_idx] = e / e.sum(axis=1, keepdims=True)
    return proba


@dataclass(frozen=True)
class SplitMetrics:
    """Scores of the model on one split."""

    n: int
    macro_f1: float
    accuracy: float
    critical_recall: float
    per_level: dict[str, dict[str, float]]
    confusion: list[list[int]]
    adversarial_correct: int
    adversarial_total: int

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "critical_recall": round(self.critical_recall, 4),
            "per_level": self.per_level,
            "confusion_matrix": {"labels": list(LEVELS), "rows_true_cols_pred": self.confusion},
            "adversarial": f"{self.adversarial_correct}/{self.adversarial_total}",
        }


def score_split(classifier: UrgencyClassifier, data: Prepared) -> SplitMetrics:
    """Figures of the classifier's decisions (threshold and history floor included)."""
    decisions = classifier.assess(data.embeddings, data.signals)
    pred = np.array([LEVELS.index(d.level) for d in decisions], dtype=np.int64)
    labels = list(range(len(LEVELS)))
    p, r, f, s = precision_recall_fscore_support(data.y, pred, labels=labels, zero_division=0)
    per_level = {
        lv: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, lv in enumerate(LEVELS)
    }
    adv = [i for i, e in enumerate(data.examples) if e.adversarial]
    return SplitMetrics(
        n=len(pred),
        macro_f1=float(f1_score(data.y, pred, labels=labels, average="macro", zero_division=0)),
        accuracy=float(np.mean(pred == data.y)),
        critical_recall=float(r[LEVELS.index("critical")]),
        per_level=per_level,
        confusion=confusion_matrix(data.y, pred, labels=labels).tolist(),
        adversarial_correct=sum(int(pred[i] == data.y[i]) for i in adv),
        adversarial_total=len(adv),
    )


@dataclass(frozen=True)
class TrainingResult:
    """The trained classifier, its chosen parameters and cross-validated figures."""

    classifier: UrgencyClassifier
    c: float
    signal_scale: float
    critical_threshold: float
    validation: dict[str, Any]


def train_urgency(
    data: Prepared, *, encoder: Encoder, version: str, name: str = "urgency", seed: int = 0
) -> TrainingResult:
    """Pick C, the signal weight and the critical threshold by cross-validation, then refit.

    ``data`` is the train and dev splits together: every candidate is judged on
    out-of-fold predictions over all of them (a bigger, steadier validation set than the
    dev split alone), and the threshold minimises the cost where a missed critical
    message weighs ``MISSED_CRITICAL_COST`` ordinary errors. The test split is never seen.
    """
    best: tuple[float, float, float, npt.NDArray[np.int64]] | None = None
    best_key = (-float("inf"), -1.0)
    for c in C_GRID:
        for scale in SCALE_GRID:
            proba = out_of_fold_proba(data, c=c, scale=scale, seed=seed)
            t = fit_threshold(data.y, proba)
            pred = decide_levels(proba, critical_threshold=t)
            key = (-_cost(data.y, pred), float(f1_score(data.y, pred, average="macro")))
            if key > best_key:
                best_key, best = key, (c, scale, t, pred)
    assert best is not None
    c, scale, t, pred = best
    coef, intercept = _fit(data, c=c, scale=scale, seed=seed)
    classifier = UrgencyClassifier(
        UrgencyHeads(coef, intercept, signal_scale=scale, critical_threshold=t),
        encoder=encoder,
        name=name,
        version=version,
    )
    critical = LEVELS.index("critical")
    validation = {
        "method": f"{FOLDS}-fold stratified cross-validation over train+dev",
        "n": len(data.y),
        "macro_f1": round(float(f1_score(data.y, pred, average="macro")), 4),
        "critical_recall": round(float(np.mean(pred[data.y == critical] == critical)), 4),
        "cost": -best_key[0],
    }
    return TrainingResult(classifier, c, scale, t, validation)
