"""CLINC150: one out-of-scope operating point, chosen by cross-validation, two protocols.

The heads (embedding logistic regression + hashed n-gram SVM, as `triage train`) are fitted
on CLINC150 train; held-out predictions come from 5-fold cross-validation of train. The
scope detector (calibrated probability, mean similarity to the 5 nearest in-scope training
examples, Mahalanobis distance to the nearest intent) and its threshold are fitted with
``training.intent_training.fit_scope_detector`` at ``--max-in-scope-drop``:

- A: over every out-of-scope example there is (train's 100, out of fold, plus validation's
  100); out-of-scope recall is the 5-fold cross-validated estimate over those 200, and
  in-scope accuracy is measured on the 3,000 validation in-scope messages (never used for
  fitting). This is `triage train --distance-scores --oos-data clinc150_val.csv`.
- B: train's 100 out-of-scope examples only, then applied to the whole validation split
  (both figures on data never used for fitting).

Figures carry 95 % Wilson intervals. Uses the service encoder (default onnx-int8).

    nice -n 10 .venv/bin/python bench/clinc_oos_operating_point.py [--max-in-scope-drop 0.01]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import StratifiedKFold

from bench.intent_split import read_split
from models.embedding_distances import ClassGaussians, nearest_neighbours
from models.intent_classifier import scope_features
from models.lexical_features import LexicalFeaturizer
from models.probabilities import softmax
from training.command_helpers import load_encoder
from training.datasets import LabelledTexts
from training.evaluation import wilson_interval
from training.intent_training import (
    ScopeEvidence,
    TrainingConfig,
    _fit_heads,
    _fit_temperature,
    cross_validate_scope,
    encode_texts,
    fit_scope_detector,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
OOS = "out_of_scope"


class Clinc150(NamedTuple):
    """CLINC150 train and validation, with every label (``out_of_scope`` among them) as its
    index in ``labels``."""

    train: LabelledTexts
    val: LabelledTexts
    labels: tuple[str, ...]
    oos: int
    y: npt.NDArray[np.int64]
    yv: npt.NDArray[np.int64]


def read_clinc150(data_dir: Path) -> Clinc150:
    """``clinc150_train.csv`` and ``clinc150_val.csv`` from ``data_dir``, labels indexed."""
    split = read_split(data_dir / "clinc150_train.csv", data_dir / "clinc150_val.csv")
    oos = split.names.index(OOS)
    return Clinc150(split.train, split.test, split.names, oos, split.y, split.y_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--max-in-scope-drop", type=float, default=0.01)
    parser.add_argument("--fusion-weight", type=float, default=3.0)
    args = parser.parse_args()
    config = TrainingConfig()
    train, val, labels, oos, y, yv = read_clinc150(args.data_dir)
    encoder = load_encoder()
    emb = encode_texts(encoder, train.texts).astype(np.float32)
    vemb = encode_texts(encoder, val.texts).astype(np.float32)
    featurizer = LexicalFeaturizer(n_buckets=config.lexical_buckets).fit(train.texts)
    lex, vlex = featurizer.transform(train.texts), featurizer.transform(val.texts)

    n, k_near = len(y), config.knn_k
    oof = np.zeros((n, len(labels)))
    near = np.zeros((n, k_near))
    maha = np.zeros(n)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fit_rows, held_rows in splitter.split(emb, y):
        heads = _fit_heads(emb[fit_rows], lex[fit_rows], y[fit_rows], labels, config)
        log_p, lex_scores = heads.scores(emb[held_rows], lex[held_rows])
        assert lex_scores is not None
        oof[held_rows] = log_p + args.fusion_weight * lex_scores
        ref = fit_rows[y[fit_rows] != oos]
        near[held_rows] = nearest_neighbours(emb[held_rows], emb[ref], k_near)[0]
        maha[held_rows] = ClassGaussians.fit(emb[ref], y[ref]).min_distance(emb[held_rows])
    heads = _fit_heads(emb, lex, y, labels, config)
    log_p, lex_scores = heads.scores(vemb, vlex)
    assert lex_scores is not None
    temperature = _fit_temperature(oof, y)
    proba = softmax(oof / temperature)
    vproba = softmax((log_p + args.fusion_weight * lex_scores) / temperature)
    ref = np.flatnonzero(y != oos)
    vnear = nearest_neighbours(vemb, emb[ref], k_near)[0]
    vmaha = ClassGaussians.fit(emb[ref], y[ref]).min_distance(vemb)

    in_idx = np.array([i for i in range(len(labels)) if i != oos])
    groups = [np.array([i]) for i in range(len(labels))]

    def evidence(p: np.ndarray, s: np.ndarray, m: np.ndarray, gold: np.ndarray) -> ScopeEvidence:
        return ScopeEvidence(
            features=scope_features(
                p, in_idx, groups, similarities=s, knn_k=k_near, min_distance=m
            ),
            is_oos=gold == oos,
            correct=in_idx[p[:, in_idx].argmax(axis=1)] == gold,
            oos_wins=p.argmax(axis=1) == oos,
        )

    def show(name: str, right: int, total: int) -> str:
        lo, hi = wilson_interval(right, total)
        return f"{name} {right / total:.4f} [{lo:.4f}, {hi:.4f}] (n={total})"

    drop = args.max_in_scope_drop
    v_oos = np.flatnonzero(yv == oos)
    v_in = np.flatnonzero(yv != oos)
    print(f"encoder {encoder.model_id}; max in-scope drop {drop}")
    plain = (vproba[v_in].argmax(1) == yv[v_in]).mean()
    print(f"accuracy without rejection, val in-scope: {plain:.4f}")

    pooled = evidence(
        np.vstack([proba, vproba[v_oos]]),
        np.vstack([near, vnear[v_oos]]),
        np.r_[maha, vmaha[v_oos]],
        np.r_[y, yv[v_oos]],
    )
    cv = cross_validate_scope(pooled, max_in_scope_drop=drop, folds=5, seed=0)
    detector = fit_scope_detector(pooled, max_in_scope_drop=drop)
    held = evidence(vproba[v_in], vnear[v_in], vmaha[v_in], yv[v_in])
    rejected = held.oos_wins | (detector.score(held.features) < detector.threshold)
    right = int(((~rejected) & held.correct).sum())
    print("\nA: detector and threshold by 5-fold CV over all 200 out-of-scope examples")
    print("  " + show("val in-scope accuracy", right, len(v_in)))
    print(
        f"  cross-validated out-of-scope recall {cv['cv_oos_recall']} {cv['cv_oos_recall_ci95']} "
        f"(n={cv['cv_oos_n']}); cross-validated in-scope accuracy {cv['cv_in_scope_accuracy']}"
    )

    detector = fit_scope_detector(evidence(proba, near, maha, y), max_in_scope_drop=drop)
    full = evidence(vproba, vnear, vmaha, yv)
    rejected = full.oos_wins | (detector.score(full.features) < detector.threshold)
    inside = ~full.is_oos
    print("\nB: fitted on train's 100 out-of-scope examples only, applied to validation")
    print(
        "  "
        + show(
            "val in-scope accuracy",
            int(((~rejected) & full.correct)[inside].sum()),
            int(inside.sum()),
        )
    )
    print(
        "  "
        + show("val out-of-scope recall", int(rejected[full.is_oos].sum()), int(full.is_oos.sum()))
    )


if __name__ == "__main__":
    main()
