"""Train and evaluate the urgency model on the hand-written urgency data set.

The data set (``training/data/urgency/urgency_messages.jsonl``) has a fixed ``split``
column. ``train`` and ``dev`` together fit the model; cross-validation over them picks
the regularisation, the signal weight, the intent-feature weight (or no intent features
at all) and the critical threshold. ``test`` (written separately, with adversarial
cases) is only ever used for the reported figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from models.intent_classifier import IntentClassifier, IntentPrediction
from models.lexical_features import LexicalFeaturizer
from models.message_analyzer import MessageAnalyzer
from models.probabilities import softmax
from models.protocols import Encoder
from models.urgency_classifier import (
    INTENT_CATEGORIES,
    LEVELS,
    UrgencyClassifier,
    UrgencyHeads,
    decide_levels,
    feature_matrix,
    head_levels,
    intent_matrix,
)
from models.urgency_signals import UrgencySignals

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "urgency" / "urgency_messages.jsonl"
#: The larger, varied training-only set (several domains, hard negatives); no test rows.
VARIED_DATA = DEFAULT_DATA.with_name("urgency_varied.jsonl")
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
SCALE_GRID = (0.5, 1.0, 2.0)
INTENT_SCALE_GRID = (0.25, 0.5, 1.0)
# Cost of each error on the dev split: a missed critical weighs ten ordinary mistakes.
MISSED_CRITICAL_COST = 10.0
FOLDS = 5
#: Candidate weights of the level head's hashed n-gram block, and its hash buckets.
LEXICAL_WEIGHTS = (1.0, 2.0)
LEXICAL_BUCKETS = 2**16
#: Candidate biases of the normal and high log-probabilities (low and critical stay 0:
#: a critical reading the detector does not confirm stays high, as round 1 decided).
LEVEL_BIAS_GRID = tuple(round(float(b), 2) for b in np.arange(-1.0, 1.01, 0.1))


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
    #: The emergency situation of a critical message (``models/emergency_situations.py``).
    situation: str | None = None


@dataclass
class Prepared:
    """Model inputs of a set of examples."""

    examples: list[UrgencyExample]
    embeddings: npt.NDArray[np.float32]
    signals: list[UrgencySignals]
    y: npt.NDArray[np.int64]
    #: The intent model's prediction per message, as the live pipeline hands it to
    #: urgency; ``None`` when prepared without an intent model.
    intents: list[IntentPrediction] | None = None
    #: The focus texts the embeddings came from (what the emergency detector reads).
    texts: list[str] | None = None

    def intent_features(self) -> npt.NDArray[np.float64] | None:
        """The intent block over ``INTENT_CATEGORIES`` (None without intents)."""
        if self.intents is None:
            return None
        return intent_matrix(self.intents, INTENT_CATEGORIES)


def read_examples(path: Path, *, default_split: str | None = None) -> list[UrgencyExample]:
    """Rows of the JSONL data set; raises ValueError naming the bad line.

    ``default_split`` is the split of rows without one (a separately written test file
    has only ``text``, ``level`` and maybe ``situation``); their id is the line number.
    """
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if default_split is not None:
                raw.setdefault("split", default_split)
                raw.setdefault("id", f"{path.stem}:{n}")
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
                    situation=str(raw["situation"]) if raw.get("situation") else None,
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: {exc}") from exc
    return rows


def prepare(
    examples: Sequence[UrgencyExample],
    *,
    encoder: Encoder,
    analyzer: MessageAnalyzer,
    intent: IntentClassifier | None = None,
) -> Prepared:
    """Clean, analyse and embed examples exactly as the live pipeline does.

    With ``intent``, the intent model reads the same focus texts and embeddings as in
    ``Triager`` and its category probabilities become the intent features.
    """
    analyses = [analyzer.analyze(e.text, prior_contacts=e.prior_contacts) for e in examples]
    texts = [intent.reading(a.focus_text) if intent else a.focus_text for a in analyses]
    embeddings = encoder.encode(texts)
    intents: list[IntentPrediction] | None = None
    if intent is not None:
        if intent.encoder.model_id != encoder.model_id:
            raise ValueError("the urgency and intent models must share one encoder")
        intents = intent.predict_embedded(embeddings, texts)
    return Prepared(
        examples=list(examples),
        embeddings=embeddings,
        signals=[a.signals for a in analyses],
        y=np.array([LEVELS.index(e.level) for e in examples], dtype=np.int64),
        intents=intents,
        texts=texts,
    )


def _inputs(data: Prepared, *, scale: float, intent_scale: float | None) -> npt.NDArray[np.float64]:
    """Model inputs; ``intent_scale=None`` leaves the intent block out."""
    return feature_matrix(
        data.embeddings,
        data.signals,
        signal_scale=scale,
        intent=data.intent_features() if intent_scale is not None else None,
        intent_scale=intent_scale or 0.0,
    )


def _texts(data: Prepared) -> list[str]:
    if data.texts is None:
        raise ValueError("the lexical block needs the focus texts of the prepared messages")
    return data.texts


@dataclass(frozen=True)
class HeadFit:
    """A fitted level head: dense weights, and the lexical block's when it has one."""

    coef: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float32]
    scale: float
    intent_scale: float | None
    #: The fitted featurizer and its weights (4, buckets), already times the block weight.
    lexical: LexicalFeaturizer | None = None
    lexical_coef: npt.NDArray[np.float32] | None = None

    def proba(self, data: Prepared) -> npt.NDArray[np.float64]:
        """Probabilities over ``LEVELS``, computed as ``UrgencyClassifier`` does."""
        x = _inputs(data, scale=self.scale, intent_scale=self.intent_scale)
        z = x @ self.coef.T.astype(np.float64) + self.intercept.astype(np.float64)
        if self.lexical is not None and self.lexical_coef is not None:
            z = z + np.asarray(
                self.lexical.transform(_texts(data)) @ self.lexical_coef.T.astype(np.float64)
            )
        return softmax(z)


def fit_head(
    data: Prepared,
    *,
    c: float,
    scale: float,
    intent_scale: float | None,
    lexical_weight: float | None = None,
    seed: int = 0,
) -> HeadFit:
    """Fit the head; with ``lexical_weight`` the n-gram block (idf from ``data``) is added."""
    x: npt.NDArray[np.float64] | sp.csr_matrix = _inputs(
        data, scale=scale, intent_scale=intent_scale
    )
    dense_width = x.shape[1]
    lexical = None
    if lexical_weight is not None:
        lexical = LexicalFeaturizer(n_buckets=LEXICAL_BUCKETS).fit(_texts(data))
        x = sp.hstack(
            [sp.csr_matrix(x), lexical_weight * lexical.transform(_texts(data))], format="csr"
        )
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    model.fit(x, data.y)
    coef = model.coef_.astype(np.float32)
    return HeadFit(
        coef[:, :dense_width],
        model.intercept_.astype(np.float32),
        scale,
        intent_scale,
        lexical,
        (lexical_weight * coef[:, dense_width:]).astype(np.float32)
        if lexical_weight is not None
        else None,
    )


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
        intents=[data.intents[i] for i in idx] if data.intents is not None else None,
        texts=[data.texts[i] for i in idx] if data.texts is not None else None,
    )


def concat(parts: Sequence[Prepared]) -> Prepared:
    """One prepared set made of several (intents kept only if every part has them)."""
    with_intents = all(p.intents is not None for p in parts)
    return Prepared(
        examples=[e for p in parts for e in p.examples],
        embeddings=np.vstack([p.embeddings for p in parts]),
        signals=[s for p in parts for s in p.signals],
        y=np.concatenate([p.y for p in parts]),
        intents=[i for p in parts for i in (p.intents or [])] if with_intents else None,
        texts=[t for p in parts for t in (p.texts or [])]
        if all(p.texts is not None for p in parts)
        else None,
    )


def out_of_fold_proba(
    data: Prepared,
    *,
    c: float,
    scale: float,
    intent_scale: float | None = None,
    lexical_weight: float | None = None,
    folds: int = FOLDS,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """Probabilities for every example from a model that did not see it (stratified k-fold)."""
    proba = np.zeros((len(data.y), len(LEVELS)), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, val_idx in splitter.split(np.zeros(len(data.y)), data.y):
        fit = _subset(data, fit_idx.astype(np.int64))
        val = _subset(data, val_idx.astype(np.int64))
        head = fit_head(
            fit,
            c=c,
            scale=scale,
            intent_scale=intent_scale,
            lexical_weight=lexical_weight,
            seed=seed,
        )
        proba[val_idx] = head.proba(val)
    return proba


def level_macro_f1(
    y: npt.NDArray[np.int64],
    proba: npt.NDArray[np.float64],
    *,
    bias: Sequence[float] | None = None,
) -> float:
    """Macro-F1 over low/normal/high of the non-critical messages, as the head is used.

    With an emergency detector the head only picks low, normal or high (its critical
    reading becomes high, ``head_levels``), so this is the figure the lexical block and
    the level bias are judged on.
    """
    high = LEVELS.index("high")
    keep = y != LEVELS.index("critical")
    pred = head_levels(proba[keep], bias=bias)
    labels = list(range(high + 1))
    return float(f1_score(y[keep], pred, labels=labels, average="macro", zero_division=0))


def fit_level_bias(
    y: npt.NDArray[np.int64], proba: npt.NDArray[np.float64]
) -> tuple[tuple[float, ...], float]:
    """The normal/high bias (``LEVEL_BIAS_GRID``) with the best ``level_macro_f1``.

    Ties go to the smallest total bias, so no evidence means no correction.
    """
    best: tuple[float, float, tuple[float, ...]] | None = None
    for b_normal in LEVEL_BIAS_GRID:
        for b_high in LEVEL_BIAS_GRID:
            bias = (0.0, b_normal, b_high, 0.0)
            score = level_macro_f1(y, proba, bias=bias)
            size = abs(b_normal) + abs(b_high)
            if best is None or (score, -size) > (best[0], -best[1]):
                best = (score, size, bias)
    assert best is not None
    return best[2], best[0]


def choose_level_bias(
    y: npt.NDArray[np.int64],
    probas: Sequence[npt.NDArray[np.float64]],
    *,
    folds: int = FOLDS,
) -> tuple[tuple[float, ...] | None, dict[str, Any]]:
    """Whether a level bias helps the head, judged without scoring a bias on its own rows.

    ``probas`` are out-of-fold probabilities of the shipped head (one per fold seed).
    Each is cross-fitted: the bias is fitted on ``folds - 1`` parts of the messages and
    scored on the remaining one. The bias is kept only when that beats no bias on
    average; it is then fitted on all seeds' out-of-fold rows together.
    """
    plain, crossed = [], []
    for seed, proba in enumerate(probas):
        pred = np.zeros(len(y), dtype=np.int64)
        parts = StratifiedKFold(n_splits=folds, shuffle=True, random_state=100 + seed)
        for fit_idx, val_idx in parts.split(np.zeros(len(y)), y):
            bias, _ = fit_level_bias(y[fit_idx], proba[fit_idx])
            pred[val_idx] = head_levels(proba[val_idx], bias=bias)
        keep = y != LEVELS.index("critical")
        crossed.append(
            float(f1_score(y[keep], pred[keep], labels=[0, 1, 2], average="macro", zero_division=0))
        )
        plain.append(level_macro_f1(y, proba))
    bias, fitted = fit_level_bias(np.tile(y, len(probas)), np.vstack(probas))
    kept = float(np.mean(crossed)) > float(np.mean(plain)) and any(bias)
    figures: dict[str, Any] = {
        "judged_by": "low/normal/high macro-F1, out-of-fold, bias cross-fitted",
        "none": round(float(np.mean(plain)), 4),
        "cross_fitted": round(float(np.mean(crossed)), 4),
        "bias": list(bias),
        "fitted_on_all": round(fitted, 4),
        "kept": kept,
    }
    return (bias if kept else None), figures


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
    decisions = classifier.assess(
        data.embeddings, data.signals, intents=data.intents, texts=data.texts
    )
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
class Candidate:
    """One setting of the model judged on out-of-fold predictions."""

    c: float
    signal_scale: float
    intent_scale: float | None  # None: no intent features
    critical_threshold: float
    pred: npt.NDArray[np.int64]
    cost: float
    macro_f1: float

    @property
    def key(self) -> tuple[float, float]:
        """Lower cost first, then higher macro-F1."""
        return (-self.cost, self.macro_f1)


def _judge(
    data: Prepared, proba: npt.NDArray[np.float64], threshold: float
) -> tuple[npt.NDArray[np.int64], float, float]:
    pred = decide_levels(proba, critical_threshold=threshold)
    macro = float(f1_score(data.y, pred, labels=list(range(len(LEVELS))), average="macro"))
    return pred, _cost(data.y, pred), macro


def search(
    data: Prepared,
    *,
    intent_scales: Sequence[float | None],
    c_grid: Sequence[float] = C_GRID,
    scale_grid: Sequence[float] = SCALE_GRID,
    seed: int = 0,
) -> Candidate:
    """Best C, signal weight, intent weight and critical threshold on out-of-fold predictions."""
    best: Candidate | None = None
    for c in c_grid:
        for scale in scale_grid:
            for intent_scale in intent_scales:
                proba = out_of_fold_proba(
                    data, c=c, scale=scale, intent_scale=intent_scale, seed=seed
                )
                t = fit_threshold(data.y, proba)
                pred, cost, macro = _judge(data, proba, t)
                cand = Candidate(c, scale, intent_scale, t, pred, cost, macro)
                if best is None or cand.key > best.key:
                    best = cand
    assert best is not None
    return best


def recheck(data: Prepared, cand: Candidate, *, seeds: Sequence[int]) -> dict[str, float]:
    """Mean figures of a chosen setting on fresh fold splits (selection bias check)."""
    runs = []
    for seed in seeds:
        proba = out_of_fold_proba(
            data, c=cand.c, scale=cand.signal_scale, intent_scale=cand.intent_scale, seed=seed
        )
        runs.append(_judge(data, proba, cand.critical_threshold))
    critical = LEVELS.index("critical")
    return {
        "cost": round(float(np.mean([cost for _, cost, _ in runs])), 2),
        "macro_f1": round(float(np.mean([macro for _, _, macro in runs])), 4),
        "critical_recall": round(
            float(np.mean([np.mean(pred[data.y == critical] == critical) for pred, _, _ in runs])),
            4,
        ),
    }


def _figures(data: Prepared, cand: Candidate, fresh: Mapping[str, float]) -> dict[str, Any]:
    critical = LEVELS.index("critical")
    return {
        "C": cand.c,
        "signal_scale": cand.signal_scale,
        "intent_scale": cand.intent_scale,
        "critical_threshold": cand.critical_threshold,
        "macro_f1": round(cand.macro_f1, 4),
        "critical_recall": round(float(np.mean(cand.pred[data.y == critical] == critical)), 4),
        "cost": cand.cost,
        "fresh_folds": dict(fresh),
    }


@dataclass(frozen=True)
class TrainingResult:
    """The trained classifier, its chosen parameters and cross-validated figures."""

    classifier: UrgencyClassifier
    c: float
    signal_scale: float
    intent_scale: float | None
    critical_threshold: float
    validation: dict[str, Any]
    #: Weight of the level head's n-gram block (None: the head has none).
    lexical_weight: float | None = None
    #: Bias of the head's log-probabilities (None: none was kept).
    level_bias: tuple[float, ...] | None = None


FRESH_SEEDS = (1, 2)


def choose_lexical(
    data: Prepared,
    chosen: Candidate,
    *,
    weights: Sequence[float],
    seeds: Sequence[int],
) -> tuple[float | None, dict[str, Any], list[npt.NDArray[np.float64]]]:
    """Whether (and how strongly) the hashed n-gram block helps the level head.

    Each weight, and no block, is judged with the chosen C, signal and intent weights by
    ``level_macro_f1`` of out-of-fold predictions, averaged over ``seeds``; no block wins
    ties. Returns the weight (None: no block), the figures and the out-of-fold
    probabilities of every seed for the winner.
    """
    figures: dict[str, Any] = {"judged_by": "low/normal/high macro-F1, out-of-fold"}
    best: tuple[float, float | None, list[npt.NDArray[np.float64]]] | None = None
    for weight in (None, *weights):
        scores, probas = [], []
        for s in seeds:
            proba = out_of_fold_proba(
                data,
                c=chosen.c,
                scale=chosen.signal_scale,
                intent_scale=chosen.intent_scale,
                lexical_weight=weight,
                seed=s,
            )
            scores.append(level_macro_f1(data.y, proba))
            probas.append(proba)
        mean = float(np.mean(scores))
        figures["none" if weight is None else str(weight)] = round(mean, 4)
        if best is None or mean > best[0]:
            best = (mean, weight, probas)
    assert best is not None
    figures["chosen"] = best[1]
    return best[1], figures, best[2]


def train_urgency(
    data: Prepared,
    *,
    encoder: Encoder,
    version: str,
    name: str = "urgency",
    intent_model: str | None = None,
    seed: int = 0,
    grids: tuple[Sequence[float], Sequence[float], Sequence[float]] = (
        C_GRID,
        SCALE_GRID,
        INTENT_SCALE_GRID,
    ),
    lexical_weights: Sequence[float] = (),
    level_bias: bool = False,
) -> TrainingResult:
    """Pick the settings by cross-validation, decide on the intent features, then refit.

    ``data`` is the train and dev splits together: every candidate is judged on
    out-of-fold predictions over all of them (a bigger, steadier validation set than the
    dev split alone), and the threshold minimises the cost where a missed critical
    message weighs ``MISSED_CRITICAL_COST`` ordinary errors. When ``data`` carries intent
    probabilities, the best setting with intent features is compared with the best one
    without, both re-run on fresh fold splits (the larger grid would otherwise win by
    chance); the intent features stay only if they do not hurt there. The test split is
    never seen.

    Args:
        data: Prepared train+dev examples.
        encoder: The encoder the embeddings came from.
        version: Version written to the manifest.
        name: Model name written to the manifest.
        intent_model: ``name@version`` of the intent model behind ``data.intents``.
        seed: Seed of the selection folds.
        grids: Candidate values of C, the signal weight and the intent weight.
        lexical_weights: Candidate weights of the head's hashed n-gram block, tried with
            the chosen setting (``choose_lexical``); empty: no block.
        level_bias: Also try a bias of the head's normal/high log-probabilities
            (``choose_level_bias``, on the out-of-fold probabilities of the shipped head).
    """
    c_grid, scale_grid, intent_grid = grids
    without = search(data, intent_scales=(None,), c_grid=c_grid, scale_grid=scale_grid, seed=seed)
    without_fresh = recheck(data, without, seeds=FRESH_SEEDS)
    validation: dict[str, Any] = {
        "method": f"{FOLDS}-fold stratified cross-validation over train+dev",
        "n": len(data.y),
        "without_intent": _figures(data, without, without_fresh),
    }
    chosen, chosen_fresh = without, without_fresh
    if data.intents is not None:
        with_intent = search(
            data, intent_scales=intent_grid, c_grid=c_grid, scale_grid=scale_grid, seed=seed
        )
        with_fresh = recheck(data, with_intent, seeds=FRESH_SEEDS)
        validation["with_intent"] = _figures(data, with_intent, with_fresh)
        validation["intent_model"] = intent_model
        if (-with_fresh["cost"], with_fresh["macro_f1"]) >= (
            -without_fresh["cost"],
            without_fresh["macro_f1"],
        ):
            chosen, chosen_fresh = with_intent, with_fresh
    validation["intent_features"] = chosen.intent_scale is not None
    validation.update({k: v for k, v in _figures(data, chosen, chosen_fresh).items() if k != "C"})
    threshold = chosen.critical_threshold
    lexical_weight = None
    probas: list[npt.NDArray[np.float64]] = []
    if lexical_weights:
        lexical_weight, figures, probas = choose_lexical(
            data, chosen, weights=lexical_weights, seeds=(seed, *FRESH_SEEDS)
        )
        validation["lexical"] = figures
        if lexical_weight is not None:
            # The head's own critical threshold (used only without a detector) is refitted
            # on the out-of-fold probabilities of the head that is shipped.
            threshold = fit_threshold(data.y, probas[0])
            validation["critical_threshold"] = threshold
    bias = None
    if level_bias:
        if not probas:
            probas = [
                out_of_fold_proba(
                    data,
                    c=chosen.c,
                    scale=chosen.signal_scale,
                    intent_scale=chosen.intent_scale,
                    seed=s,
                )
                for s in (seed, *FRESH_SEEDS)
            ]
        bias, validation["level_bias"] = choose_level_bias(data.y, probas)
    head = fit_head(
        data,
        c=chosen.c,
        scale=chosen.signal_scale,
        intent_scale=chosen.intent_scale,
        lexical_weight=lexical_weight,
        seed=seed,
    )
    uses_intent = chosen.intent_scale is not None
    classifier = UrgencyClassifier(
        UrgencyHeads(
            head.coef,
            head.intercept,
            signal_scale=chosen.signal_scale,
            critical_threshold=threshold,
            intent_features=INTENT_CATEGORIES if uses_intent else (),
            intent_scale=chosen.intent_scale if chosen.intent_scale is not None else 1.0,
            lexical_coef=head.lexical_coef,
            lexical_idf=head.lexical.idf if head.lexical is not None else None,
            level_bias=bias,
        ),
        encoder=encoder,
        name=name,
        version=version,
        intent_model=intent_model if uses_intent else None,
    )
    return TrainingResult(
        classifier,
        chosen.c,
        chosen.signal_scale,
        chosen.intent_scale,
        threshold,
        validation,
        lexical_weight,
        bias,
    )
