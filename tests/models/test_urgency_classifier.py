"""Urgency model: artifact checks, decisions, and the held-out targets of the shipped model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError, EncoderMismatchError
from models.message_analyzer import MessageAnalyzer
from models.urgency_classifier import UrgencyClassifier
from service.settings import DEFAULT_URGENCY_MODEL
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.urgency_tiny import train_tiny_urgency
from training.urgency_training import DEFAULT_DATA, prepare, read_examples, score_split


@pytest.fixture(scope="module")
def tiny_urgency_dir(
    tmp_path_factory: pytest.TempPathFactory, hashing_encoder: HashingEncoder
) -> Path:
    return train_tiny_urgency(hashing_encoder, tmp_path_factory.mktemp("urgency") / "urgency-tiny")


def test_artifact_round_trip_gives_the_same_probabilities(
    tiny_urgency_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    model = UrgencyClassifier.from_artifact(tiny_urgency_dir, encoder=hashing_encoder)
    analysis = MessageAnalyzer().analyze("I was charged twice for order 5531908")
    emb = hashing_encoder.encode([analysis.focus_text])
    first = model.predict_proba(emb, [analysis.signals])
    again = UrgencyClassifier.from_artifact(tiny_urgency_dir, encoder=hashing_encoder)
    np.testing.assert_allclose(first, again.predict_proba(emb, [analysis.signals]))
    assert first.shape == (1, 4)
    assert model.version == "urgency-tiny@1"


def test_artifact_from_another_encoder_is_refused(tiny_urgency_dir: Path) -> None:
    other = HashingEncoder(model_id="test/another-encoder")
    with pytest.raises(EncoderMismatchError, match="another-encoder"):
        UrgencyClassifier.from_artifact(tiny_urgency_dir, encoder=other)


def test_edited_weights_are_refused(
    tiny_urgency_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_urgency_dir, copy)
    coef = np.load(copy / "coef.npy")
    np.save(copy / "coef.npy", coef * 2)
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        UrgencyClassifier.from_artifact(copy, encoder=hashing_encoder)


def test_repeat_contact_from_history_is_at_least_high(
    tiny_urgency_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    model = UrgencyClassifier.from_artifact(tiny_urgency_dir, encoder=hashing_encoder)
    analysis = MessageAnalyzer().analyze("thanks, any news?", prior_contacts=3)
    (decision,) = model.assess(hashing_encoder.encode([analysis.focus_text]), [analysis.signals])
    assert decision.level in {"high", "critical"}
    assert decision.reasons[0] == "repeat contact (3 earlier messages)"
    assert 0.0 <= decision.score <= 1.0


def test_shipped_manifest_records_test_figures() -> None:
    manifest = json.loads((DEFAULT_URGENCY_MODEL / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["type"] == "urgency-classifier"
    assert manifest["metrics"]["test"]["macro_f1"] >= 0.80
    assert manifest["metrics"]["test"]["critical_recall"] >= 0.95


@pytest.mark.encoder
def test_shipped_model_meets_the_targets_on_the_held_out_test_split(real_encoder) -> None:  # type: ignore[no-untyped-def]
    model = UrgencyClassifier.from_artifact(DEFAULT_URGENCY_MODEL, encoder=real_encoder)
    rows = [e for e in read_examples(DEFAULT_DATA) if e.split == "test"]
    assert len(rows) >= 150
    metrics = score_split(model, prepare(rows, encoder=real_encoder, analyzer=MessageAnalyzer()))
    assert metrics.macro_f1 >= 0.80, metrics.to_json()
    assert metrics.critical_recall >= 0.95, metrics.to_json()


@pytest.mark.encoder
@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        # Calm wording of a critical problem.
        (
            "Hi! Hope you're well. Small thing: there's a $640 payment to you on my card "
            "for an order I never placed. Could you have a look? Thanks!",
            {"critical"},
        ),
        # Angry wording of a trivial one is not critical.
        ("WHY IS THE NEWSLETTER SO UGLY?!?! honestly", {"low", "normal", "high"}),
        ("The stroller's brake snapped and my baby rolled into the road.", {"critical"}),
    ],
)
def test_shipped_model_on_adversarial_wording(real_encoder, text: str, allowed: set[str]) -> None:  # type: ignore[no-untyped-def]
    model = UrgencyClassifier.from_artifact(DEFAULT_URGENCY_MODEL, encoder=real_encoder)
    analysis = MessageAnalyzer().analyze(text)
    (decision,) = model.assess(real_encoder.encode([analysis.focus_text]), [analysis.signals])
    assert decision.level in allowed, decision


LONG_EMAIL = """Hello,

I hope you are all keeping well. I have been shopping with you for about six years and I
have always recommended you to friends and family, which is why I am writing rather than
simply calling my bank.

In January I ordered a rug and two lamps. They arrived on time and I am very happy with
them; the rug in particular looks lovely in the hallway and the lamps are exactly as shown.

However, looking at my statement this weekend, I found three further payments to your
company of $420 each, on three different days, that I did not make. Nobody in my household
has used the account. Please stop these payments and refund them.

Kind regards,
Margaret Ellis
Flat 2, 14 Harbour Road

On Tue, 7 Jan 2025 at 10:12, Shop Support <help@shop.example> wrote:
> Thank you for your order! It has shipped.
"""


@pytest.mark.encoder
def test_request_buried_in_paragraph_three_is_still_critical(real_encoder) -> None:  # type: ignore[no-untyped-def]
    model = UrgencyClassifier.from_artifact(DEFAULT_URGENCY_MODEL, encoder=real_encoder)
    analysis = MessageAnalyzer().analyze(LONG_EMAIL, subject="Payments on my card")
    assert "did not make" in analysis.focus_text
    assert "Thank you for your order" not in analysis.focus_text
    (decision,) = model.assess(real_encoder.encode([analysis.focus_text]), [analysis.signals])
    assert decision.level == "critical"
    assert "mentions unauthorized charges" in decision.reasons
