"""Intent categories as urgency features: the category probabilities, the artifact's
record of them, and the triage pipeline handing the intent model's output to urgency."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from models.intent_classifier import IntentClassifier, IntentPrediction
from models.message_analyzer import MessageAnalyzer
from models.triager import TriageInput, Triager
from models.urgency_classifier import INTENT_CATEGORIES, UrgencyClassifier, intent_matrix
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.urgency_tiny import train_tiny_urgency

MESSAGES = (
    "I was charged twice for order 5531908",
    "how do i download my invoice",
    "you absolute clowns, where is the newsletter settings page",
)


class CountingEncoder(HashingEncoder):
    """The hashing encoder, counting how many batches it encodes."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.batches += 1
        return super().encode(texts)


@pytest.fixture(scope="module")
def intent(tiny_intent_dir: Path, hashing_encoder: HashingEncoder) -> IntentClassifier:
    return IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)


@pytest.fixture(scope="module")
def urgency_with_intent_dir(
    tmp_path_factory: pytest.TempPathFactory,
    hashing_encoder: HashingEncoder,
    intent: IntentClassifier,
) -> Path:
    folder = tmp_path_factory.mktemp("urgency") / "urgency-intent"
    return train_tiny_urgency(hashing_encoder, folder, intent=intent)


def test_intent_predictions_carry_probability_per_category(intent: IntentClassifier) -> None:
    predictions = intent.predict(list(MESSAGES))
    expected = set(intent.categories.values())
    if intent.oos_label in intent.labels:
        expected.add(intent.oos_label)
    for p in predictions:
        assert p.category_probabilities is not None
        assert set(p.category_probabilities) == expected
        assert sum(p.category_probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        if not p.out_of_scope:
            best = max(p.category_probabilities, key=lambda k: p.category_probabilities[k])  # type: ignore[index]
            assert p.category_probabilities[p.category] >= p.confidence - 1e-3  # type: ignore[index]
            assert best != intent.oos_label


def _prediction(
    probabilities: dict[str, float] | None, *, out_of_scope: bool = False
) -> IntentPrediction:
    return IntentPrediction(
        label="out_of_scope" if out_of_scope else "track_order",
        confidence=0.7,
        category=None if out_of_scope else "ORDER",
        alternatives=(),
        out_of_scope=out_of_scope,
        ambiguous=False,
        category_probabilities=probabilities,
    )


def test_intent_features_are_category_probabilities_and_the_rejection() -> None:
    rows = [
        _prediction({"ORDER": 0.7, "REFUND": 0.2, "SOMETHING_NEW": 0.1}),
        _prediction({"ORDER": 0.3, "ACCOUNT": 0.3}, out_of_scope=True),
    ]
    matrix = intent_matrix(rows, INTENT_CATEGORIES)
    assert matrix.shape == (2, len(INTENT_CATEGORIES))
    assert matrix[0, INTENT_CATEGORIES.index("ORDER")] == pytest.approx(0.7)
    assert matrix[0, INTENT_CATEGORIES.index("REFUND")] == pytest.approx(0.2)
    assert matrix[0].sum() == pytest.approx(0.9)  # an unknown category is ignored
    assert matrix[0, INTENT_CATEGORIES.index("out_of_scope")] == 0.0
    assert matrix[1, INTENT_CATEGORIES.index("out_of_scope")] == 1.0
    with pytest.raises(ValueError, match="#0"):
        intent_matrix([_prediction(None)], INTENT_CATEGORIES)


def test_artifact_records_intent_features_and_the_intent_model_used(
    urgency_with_intent_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    features = json.loads((urgency_with_intent_dir / "features.json").read_text("utf-8"))
    assert tuple(features["intent"]) == INTENT_CATEGORIES
    manifest = json.loads((urgency_with_intent_dir / "manifest.json").read_text("utf-8"))
    assert manifest["params"]["intent_model"] == "intent-tiny@1"
    model = UrgencyClassifier.from_artifact(urgency_with_intent_dir, encoder=hashing_encoder)
    assert model.uses_intent
    assert model.intent_model == "intent-tiny@1"


def test_urgency_with_intent_features_refuses_to_guess_without_them(
    urgency_with_intent_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    model = UrgencyClassifier.from_artifact(urgency_with_intent_dir, encoder=hashing_encoder)
    analysis = MessageAnalyzer().analyze(MESSAGES[0])
    emb = hashing_encoder.encode([analysis.focus_text])
    with pytest.raises(ValueError, match="reads intent categories"):
        model.assess(emb, [analysis.signals])


def test_triager_feeds_the_intent_output_to_urgency_with_one_encoder_pass(
    tiny_intent_dir: Path, urgency_with_intent_dir: Path
) -> None:
    encoder = CountingEncoder()
    intent = IntentClassifier.from_artifact(tiny_intent_dir, encoder=encoder)
    urgency = UrgencyClassifier.from_artifact(urgency_with_intent_dir, encoder=encoder)
    triager = Triager(intent=intent, urgency=urgency)
    messages = [TriageInput(text=t) for t in MESSAGES]
    results = triager.triage_many(messages)
    assert encoder.batches == 1

    analyses = [triager.analyzer.analyze(t) for t in MESSAGES]
    texts = [a.focus_text for a in analyses]
    emb = encoder.encode(texts)
    expected_intents = intent.predict_embedded(emb, texts)
    expected = urgency.predict_proba(emb, [a.signals for a in analyses], intents=expected_intents)
    for result, row in zip(results, expected, strict=True):
        assert result.intent.category_probabilities is not None
        assert result.urgency is not None
        assert list(result.urgency.probabilities.values()) == pytest.approx(row, abs=1e-4)


def test_retrained_intent_model_with_the_same_categories_is_a_drop_in(
    intent: IntentClassifier,
    urgency_with_intent_dir: Path,
    hashing_encoder: HashingEncoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    retrained = IntentClassifier(
        intent.heads,
        encoder=hashing_encoder,
        categories=intent.categories,
        name="intent-tiny",
        version="2",
    )
    urgency = UrgencyClassifier.from_artifact(urgency_with_intent_dir, encoder=hashing_encoder)
    with caplog.at_level(logging.INFO, logger="models.urgency_classifier"):
        result = Triager(intent=retrained, urgency=urgency).triage(TriageInput(text=MESSAGES[1]))
    assert result.urgency is not None
    assert "intent-tiny@2" in caplog.text
    assert "intent-tiny@1" in caplog.text


def test_intent_model_missing_a_category_is_reported_and_counts_zero(
    intent: IntentClassifier,
    urgency_with_intent_dir: Path,
    hashing_encoder: HashingEncoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fewer = {label: cat for label, cat in intent.categories.items() if cat != "REFUND"}
    smaller = IntentClassifier(intent.heads, encoder=hashing_encoder, categories=fewer)
    urgency = UrgencyClassifier.from_artifact(urgency_with_intent_dir, encoder=hashing_encoder)
    with caplog.at_level(logging.WARNING, logger="models.urgency_classifier"):
        result = Triager(intent=smaller, urgency=urgency).triage(TriageInput(text=MESSAGES[0]))
    assert "REFUND" in caplog.text
    assert result.intent.category_probabilities is not None
    assert "REFUND" not in result.intent.category_probabilities
    assert result.urgency is not None
