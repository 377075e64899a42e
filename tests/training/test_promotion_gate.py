"""The retrain gate: held-out split, judging two real models, and the side-by-side report."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import InvalidInputError
from models.intent_classifier import IntentClassifier
from models.intent_classifier import IntentPrediction as P
from tests.fixtures.hashing_encoder import HashingEncoder
from training.datasets import LabelledTexts, read_labelled_csv
from training.feedback_retrain import Correction, merge_corrections, split_for_judging
from training.intent_training import TrainingConfig, train_intent_classifier
from training.promotion_gate import compare_models, judge, reliability, score_model
from training.reports import write_comparison_report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TINY = TrainingConfig(folds=3, gibberish_negatives=20, lexical_buckets=2**12)


def _prediction(label: str, confidence: float = 0.9) -> P:
    return P(label, confidence, None, (), label == "out_of_scope", False)


def _base() -> LabelledTexts:
    return read_labelled_csv(
        FIXTURES / "intents_tiny.csv",
        text_column="text",
        label_column="label",
        category_column="category",
    )


def test_split_holds_out_corrections_and_every_label() -> None:
    base = _base()
    corrections = [Correction(f"my parcel {i} arrived smashed", "get_refund") for i in range(10)]
    merged, _ = merge_corrections(base, corrections)
    split = split_for_judging(merged, corrections, test_size=0.2, seed=0)
    assert len(split.train) + len(split.holdout) == len(merged)
    assert set(split.holdout.labels) == set(base.labels)
    assert sum(split.from_corrections) == 2
    held = {t for t, fb in zip(split.holdout.texts, split.from_corrections, strict=True) if fb}
    assert held and not held & set(split.train.texts)
    assert split.train.sha256 != merged.sha256


def test_split_with_an_independent_holdout_trains_on_every_base_row() -> None:
    base = _base()
    corrections = [Correction(f"my parcel {i} arrived smashed", "get_refund") for i in range(5)]
    merged, _ = merge_corrections(base, corrections)
    independent = base.subset(range(4))
    split = split_for_judging(merged, corrections, test_size=0.2, seed=0, holdout=independent)
    assert len(split.train) == len(merged) - 1
    assert split.holdout.texts[:4] == independent.texts
    assert split.from_corrections == (False, False, False, False, True)


def test_split_refuses_a_share_outside_zero_and_one() -> None:
    with pytest.raises(InvalidInputError, match="held-out share"):
        split_for_judging(_base(), [], test_size=1.0)


def test_reliability_bins_and_ece() -> None:
    bins, ece = reliability([0.95, 0.95, 0.55, 0.55], [True, False, True, True])
    assert [(b.count, b.accuracy) for b in bins] == [(2, 1.0), (2, 0.5)]
    assert ece == pytest.approx((2 * 0.45 + 2 * 0.45) / 4)


def test_gate_refuses_an_intent_drop_beyond_the_margin_even_when_macro_f1_rises() -> None:
    gold = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    active = ["a"] * 10 + ["b"] * 10 + ["c"] * 5 + ["b"] * 5
    candidate = ["a"] * 8 + ["c"] * 2 + ["b"] * 10 + ["c"] * 10
    flags = [False] * 30

    def score(pred: list[str]):  # type: ignore[no-untyped-def]
        return score_model(
            "m", gold, [_prediction(p) for p in pred], oos_label="oos", from_corrections=flags
        )

    s_active, s_candidate = score(active), score(candidate)
    assert s_candidate.report.macro_f1 > s_active.report.macro_f1
    verdict = judge(s_active, s_candidate, max_intent_drop=0.05)
    assert not verdict.promote
    assert len(verdict.reasons) == 1 and verdict.reasons[0].startswith("a: F1 1.000 -> 0.889")
    assert judge(s_active, s_candidate, max_intent_drop=0.2).promote
    worse = judge(s_candidate, s_active, max_intent_drop=1.0)
    assert not worse.promote and "macro-F1" in worse.reasons[0]


def test_compare_and_report_on_two_real_models(
    tmp_path: Path, hashing_encoder: HashingEncoder
) -> None:
    base = _base()
    corrections = [
        Correction(text, "get_refund")
        for text in (
            "the kettle came broken, money back please",
            "arrived broken, I want my money back",
            "it came smashed, refund me",
            "broken on arrival, give me a refund",
            "the lamp arrived broken and I want a refund",
        )
    ]
    merged, _ = merge_corrections(base, corrections)
    split = split_for_judging(merged, corrections, test_size=0.4, seed=1)

    def train(data: LabelledTexts, version: str) -> IntentClassifier:
        return train_intent_classifier(
            data,
            encoder=hashing_encoder,
            config=TINY,
            categories=data.categories,
            name="tiny",
            version=version,
        ).classifier

    active = train(
        base.subset(i for i in range(len(base)) if base.texts[i] not in set(split.holdout.texts)),
        "1",
    )
    candidate = train(split.train, "2")
    comparison = compare_models(
        active,
        candidate,
        texts=split.holdout.texts,
        gold=split.holdout.labels,
        from_corrections=split.from_corrections,
        max_intent_drop=1.0,
    )
    assert comparison.active.version == "tiny@1" and comparison.candidate.version == "tiny@2"
    assert comparison.candidate.corrections_accuracy is not None
    assert comparison.active.report.n == comparison.candidate.report.n == len(split.holdout)
    path = write_comparison_report(
        tmp_path / "report",
        gold=comparison.gold,
        active=comparison.active,
        candidate=comparison.candidate,
        verdict=comparison.verdict,
        context={"base": "tiny"},
    )
    text = path.read_text(encoding="utf-8")
    assert "# Retrain: tiny@2 against tiny@1" in text
    assert "accuracy on held-out corrections" in text
    for image in ("per_intent_f1.png", "confusion_change.png", "calibration.png"):
        assert (tmp_path / "report" / image).stat().st_size > 1000
        assert f"]({image})" in text


def test_compare_refuses_models_on_different_encoders(hashing_encoder: HashingEncoder) -> None:
    base = _base()
    one = train_intent_classifier(base, encoder=hashing_encoder, config=TINY).classifier
    two = train_intent_classifier(
        base, encoder=HashingEncoder(model_id="test/other"), config=TINY
    ).classifier
    with pytest.raises(InvalidInputError, match="cannot be compared"):
        compare_models(
            one,
            two,
            texts=base.texts,
            gold=base.labels,
            from_corrections=[False] * len(base),
            max_intent_drop=0.1,
        )


def test_report_of_identical_predictions_says_nothing_changed(tmp_path: Path) -> None:
    gold = ["a", "b", "a", "b"]
    scores = score_model(
        "m@1", gold, [_prediction(g) for g in gold], oos_label="oos", from_corrections=[False] * 4
    )
    verdict = judge(scores, scores, max_intent_drop=0.0)
    assert verdict.promote
    path = write_comparison_report(
        tmp_path, gold=gold, active=scores, candidate=scores, verdict=verdict, context={}
    )
    assert "No confusion changed." in path.read_text(encoding="utf-8")
    assert (tmp_path / "confusion_change.png").stat().st_size > 1000
