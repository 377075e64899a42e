"""Out-of-scope detector, cross-validated operating point and the nearest-example vote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.intent_classifier import IntentClassifier
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.table_encoder import xor_intents
from training.datasets import read_labelled_csv
from training.evaluation import evaluate_labels, wilson_interval
from training.intent_training import (
    ScopeEvidence,
    TrainingConfig,
    cross_validate_scope,
    fit_scope_detector,
    train_intent_classifier,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(95, 100)
    assert lo == pytest.approx(0.8883, abs=1e-4) and hi == pytest.approx(0.9785, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_evaluation_reports_intervals_for_in_scope_accuracy_and_oos_recall() -> None:
    report = evaluate_labels(
        ["a", "a", "b", "out_of_scope", "out_of_scope"],
        ["a", "b", "b", "out_of_scope", "a"],
        oos_label="out_of_scope",
    )
    summary = report.summary()
    assert summary["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    lo, hi = summary["in_scope_accuracy_ci95"]
    assert lo < 2 / 3 < hi
    assert summary["oos_recall_ci95"][0] < 0.5 < summary["oos_recall_ci95"][1]


def _evidence(rng: np.random.Generator, n_in: int, n_out: int) -> ScopeEvidence:
    inside = np.column_stack(
        [rng.uniform(0.6, 1.0, n_in), rng.normal(0.7, 0.05, n_in), rng.normal(-5, 1, n_in)]
    )
    outside = np.column_stack(
        [rng.uniform(0.2, 0.9, n_out), rng.normal(0.45, 0.05, n_out), rng.normal(-9, 1, n_out)]
    )
    return ScopeEvidence(
        features=np.vstack([inside, outside]),
        is_oos=np.r_[np.zeros(n_in, bool), np.ones(n_out, bool)],
        correct=np.r_[rng.uniform(size=n_in) < 0.95, np.zeros(n_out, bool)],
        oos_wins=np.zeros(n_in + n_out, bool),
    )


def test_detector_threshold_respects_the_in_scope_budget() -> None:
    evidence = _evidence(np.random.default_rng(0), 400, 100)
    base = evidence.outcome(evidence.oos_wins)[0]
    for budget in (0.0, 0.02):
        detector = fit_scope_detector(evidence, max_in_scope_drop=budget)
        acc, rec = evidence.outcome(detector.score(evidence.features) < detector.threshold)
        assert acc >= base - budget - 1e-12
        assert rec > 0.8  # the distance features separate the two groups
    loose = fit_scope_detector(evidence, max_in_scope_drop=0.05)
    assert loose.threshold >= fit_scope_detector(evidence, max_in_scope_drop=0.0).threshold


def test_cross_validated_operating_point_has_intervals() -> None:
    evidence = _evidence(np.random.default_rng(1), 300, 60)
    cv = cross_validate_scope(evidence, max_in_scope_drop=0.01, folds=5, seed=0)
    assert cv["cv_oos_n"] == 60 and cv["cv_in_scope_n"] == 300
    lo, hi = cv["cv_oos_recall_ci95"]
    assert lo <= cv["cv_oos_recall"] <= hi
    lo, hi = cv["cv_in_scope_accuracy_ci95"]
    assert lo <= cv["cv_in_scope_accuracy"] <= hi


def test_trained_detector_survives_the_artifact_round_trip(
    hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    data = read_labelled_csv(
        FIXTURES / "intents_tiny.csv",
        text_column="text",
        label_column="label",
        category_column="category",
    )
    negatives = read_labelled_csv(
        FIXTURES / "negatives_tiny.csv", text_column="text", label_column="label"
    )
    result = train_intent_classifier(
        data,
        encoder=hashing_encoder,
        negatives=list(negatives.texts),
        config=TrainingConfig(
            folds=3, gibberish_negatives=20, lexical_buckets=2**12, distance_scores=True
        ),
        categories=data.categories,
    )
    clf = result.classifier
    assert clf.heads.detector is not None and clf.heads.gaussians is not None
    assert result.metrics["cv_oos_n"] == len(negatives.texts)  # gibberish not counted
    clf.save(tmp_path / "m")
    again = IntentClassifier.from_artifact(tmp_path / "m", encoder=hashing_encoder)
    texts = ["where is my parcel", "qzx vbnm plok", *negatives.texts[:5]]
    first = [(p.label, p.out_of_scope) for p in clf.predict(texts)]
    assert [(p.label, p.out_of_scope) for p in again.predict(texts)] == first
    assert again.predict(["qzx vbnm plok"])[0].out_of_scope


def test_vote_is_kept_where_one_linear_boundary_is_not_enough(tmp_path: Path) -> None:
    data, encoder, probe = xor_intents()
    config = TrainingConfig(lexical=False, folds=3, gibberish_negatives=5, distance_scores=False)
    result = train_intent_classifier(data, encoder=encoder, config=config)
    heads = result.classifier.heads
    assert heads.vote_weight > 0, result.metrics["vote_accuracy_by_weight"]
    assert result.metrics["heldout_accuracy_no_rejection"] > 0.95
    result.classifier.save(tmp_path / "vote")
    again = IntentClassifier.from_artifact(tmp_path / "vote", encoder=encoder)
    assert [p.label for p in again.predict(probe)] == ["a", "a", "b", "b"]
