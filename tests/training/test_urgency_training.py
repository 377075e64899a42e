"""Urgency training: the intent-feature decision by cross-validation, and scoring a split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError
from models.intent_classifier import IntentClassifier
from models.message_analyzer import MessageAnalyzer
from models.urgency_classifier import INTENT_CATEGORIES, LEVELS, UrgencyClassifier, UrgencyHeads
from tests.fixtures.hashing_encoder import HashingEncoder
from training.urgency_training import (
    DEFAULT_DATA,
    Prepared,
    choose_level_bias,
    fit_head,
    fit_level_bias,
    level_macro_f1,
    prepare,
    read_examples,
    score_split,
    train_urgency,
)

SMALL_GRIDS = ((1.0,), (1.0,), (0.5,))


@pytest.fixture(scope="module")
def intent(tiny_intent_dir: Path, hashing_encoder: HashingEncoder) -> IntentClassifier:
    return IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)


@pytest.fixture(scope="module")
def fit_data(hashing_encoder: HashingEncoder, intent: IntentClassifier) -> Prepared:
    rows = [e for e in read_examples(DEFAULT_DATA) if e.split in {"train", "dev"}]
    return prepare(rows, encoder=hashing_encoder, analyzer=MessageAnalyzer(), intent=intent)


def test_data_set_follows_the_schema_and_keeps_its_splits() -> None:
    rows = read_examples(DEFAULT_DATA)
    assert len({r.id for r in rows}) == len(rows) >= 400
    for split in ("train", "dev", "test"):
        assert {r.level for r in rows if r.split == split} == set(LEVELS)


def test_prepare_runs_the_intent_model_on_the_focus_texts(
    fit_data: Prepared, intent: IntentClassifier
) -> None:
    assert fit_data.intents is not None
    assert len(fit_data.intents) == len(fit_data.examples)
    features = fit_data.intent_features()
    assert features is not None
    assert features.shape == (len(fit_data.examples), len(INTENT_CATEGORIES))
    first = fit_data.intents[0]
    assert first.category_probabilities is not None
    assert set(first.category_probabilities) <= set(INTENT_CATEGORIES)


def test_training_compares_with_and_without_intent_and_records_the_choice(
    fit_data: Prepared, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    result = train_urgency(
        fit_data,
        encoder=hashing_encoder,
        version="t",
        intent_model="intent-tiny@1",
        grids=SMALL_GRIDS,
    )
    validation = result.validation
    without, with_intent = validation["without_intent"], validation["with_intent"]
    assert without["intent_scale"] is None
    assert with_intent["intent_scale"] == 0.5
    assert validation["intent_model"] == "intent-tiny@1"
    # Kept exactly when, on fresh folds, they cost no more (ties: macro-F1 no lower).
    fresh_with, fresh_without = with_intent["fresh_folds"], without["fresh_folds"]
    keep = (-fresh_with["cost"], fresh_with["macro_f1"]) >= (
        -fresh_without["cost"],
        fresh_without["macro_f1"],
    )
    assert validation["intent_features"] is keep
    model = result.classifier
    assert model.uses_intent is keep
    assert model.intent_model == ("intent-tiny@1" if keep else None)

    model.save(tmp_path / "u", metrics={"validation": validation})
    loaded = UrgencyClassifier.from_artifact(tmp_path / "u", encoder=hashing_encoder)
    assert loaded.uses_intent is keep
    metrics = score_split(loaded, fit_data)
    assert 0.0 <= metrics.macro_f1 <= 1.0
    assert sum(map(sum, metrics.confusion)) == len(fit_data.examples)


def test_training_without_an_intent_model_never_uses_intent_features(
    fit_data: Prepared, hashing_encoder: HashingEncoder
) -> None:
    plain = Prepared(fit_data.examples, fit_data.embeddings, fit_data.signals, fit_data.y)
    result = train_urgency(plain, encoder=hashing_encoder, version="t", grids=SMALL_GRIDS)
    assert "with_intent" not in result.validation
    assert result.validation["intent_features"] is False
    assert not result.classifier.uses_intent


def test_lexical_block_is_judged_by_cross_validation_and_survives_the_artifact(
    fit_data: Prepared, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    plain = Prepared(
        fit_data.examples, fit_data.embeddings, fit_data.signals, fit_data.y, texts=fit_data.texts
    )
    result = train_urgency(
        plain, encoder=hashing_encoder, version="t", grids=SMALL_GRIDS, lexical_weights=(1.0,)
    )
    lexical = result.validation["lexical"]
    # Kept exactly when it beats the head without it on out-of-fold low/normal/high F1.
    assert (lexical["chosen"] == 1.0) is (lexical["1.0"] > lexical["none"])
    assert result.lexical_weight == lexical["chosen"]
    model = result.classifier
    assert model.reads_text is (result.lexical_weight is not None)

    model.save(tmp_path / "u")
    loaded = UrgencyClassifier.from_artifact(tmp_path / "u", encoder=hashing_encoder)
    before = model.predict_proba(plain.embeddings, plain.signals, texts=plain.texts)
    np.testing.assert_allclose(
        loaded.predict_proba(plain.embeddings, plain.signals, texts=plain.texts), before
    )
    if loaded.reads_text:
        with pytest.raises(ValueError, match="reads the text"):
            loaded.predict_proba(plain.embeddings, plain.signals)


def test_a_head_with_a_lexical_block_reads_the_words(
    fit_data: Prepared, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    plain = Prepared(
        fit_data.examples, fit_data.embeddings, fit_data.signals, fit_data.y, texts=fit_data.texts
    )
    head = fit_head(plain, c=1.0, scale=1.0, intent_scale=None, lexical_weight=1.0)
    assert head.lexical is not None and head.lexical_coef is not None
    model = UrgencyClassifier(
        UrgencyHeads(
            head.coef,
            head.intercept,
            signal_scale=1.0,
            critical_threshold=0.5,
            lexical_coef=head.lexical_coef,
            lexical_idf=head.lexical.idf,
        ),
        encoder=hashing_encoder,
    )
    model.save(tmp_path / "lex")
    loaded = UrgencyClassifier.from_artifact(tmp_path / "lex", encoder=hashing_encoder)
    assert loaded.reads_text
    np.testing.assert_allclose(
        loaded.predict_proba(plain.embeddings, plain.signals, texts=plain.texts),
        head.proba(plain),
        rtol=1e-5,
    )
    # Same embedding and signals, other words: the block moves the probabilities.
    other = ["lol"] * len(plain.examples)
    moved = loaded.predict_proba(plain.embeddings, plain.signals, texts=other)
    assert not np.allclose(moved, head.proba(plain))
    (tmp_path / "lex" / "lexical_idf.npy").unlink()
    with pytest.raises(ArtifactError):
        UrgencyClassifier.from_artifact(tmp_path / "lex", encoder=hashing_encoder)


def _shifted_head(shift: float, *, noise: float, n: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of a head whose high logit is off by ``shift``."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, len(LEVELS), size=n)
    logits = 2.0 * np.eye(len(LEVELS))[y] + noise * rng.normal(size=(n, len(LEVELS)))
    logits[:, LEVELS.index("high")] += shift
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y.astype(np.int64), proba


def test_level_bias_undoes_a_head_that_leans_towards_high() -> None:
    y, proba = _shifted_head(0.8, noise=1.0)
    bias, fitted = fit_level_bias(y, proba)
    assert bias[LEVELS.index("high")] < 0
    assert bias[0] == 0.0 and bias[LEVELS.index("critical")] == 0.0
    assert fitted > level_macro_f1(y, proba) + 0.02
    kept, figures = choose_level_bias(y, [proba])
    assert figures["kept"] is True and kept == tuple(figures["bias"])
    assert figures["cross_fitted"] > figures["none"]


def test_no_level_bias_when_the_head_is_already_right() -> None:
    y, proba = _shifted_head(0.0, noise=0.0)
    bias, fitted = fit_level_bias(y, proba)
    # Every small bias scores the same on a perfect head: the smallest (none) wins.
    assert bias == (0.0, 0.0, 0.0, 0.0) and fitted == 1.0
    kept, figures = choose_level_bias(y, [proba])
    assert kept is None and figures["kept"] is False


def test_level_bias_is_chosen_in_training_and_survives_the_artifact(
    fit_data: Prepared, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    plain = Prepared(fit_data.examples, fit_data.embeddings, fit_data.signals, fit_data.y)
    result = train_urgency(
        plain, encoder=hashing_encoder, version="t", grids=SMALL_GRIDS, level_bias=True
    )
    figures = result.validation["level_bias"]
    assert figures["kept"] is (figures["cross_fitted"] > figures["none"] and any(figures["bias"]))
    assert result.level_bias == (tuple(figures["bias"]) if figures["kept"] else None)
    model = result.classifier
    assert model.heads.level_bias == result.level_bias
    manifest = model.save(tmp_path / "u")
    assert manifest.params["level_bias"] == (
        list(result.level_bias) if result.level_bias is not None else None
    )
    loaded = UrgencyClassifier.from_artifact(tmp_path / "u", encoder=hashing_encoder)
    assert loaded.heads.level_bias == result.level_bias


def test_a_level_bias_of_the_wrong_length_is_refused(fit_data: Prepared) -> None:
    head = fit_head(fit_data, c=1.0, scale=1.0, intent_scale=None)
    with pytest.raises(ArtifactError, match="level bias"):
        UrgencyHeads(
            head.coef,
            head.intercept,
            signal_scale=1.0,
            critical_threshold=0.5,
            level_bias=(0.0, 0.5),
        )
