"""Urgency model: artifact checks, decisions, and the held-out targets of the shipped model."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError, EncoderMismatchError
from models.intent_classifier import IntentClassifier
from models.message_analyzer import MessageAnalyzer
from models.triager import TriageInput, Triager
from models.urgency_classifier import UrgencyAssessment, UrgencyClassifier, head_levels
from service.settings import DEFAULT_INTENT_MODEL, DEFAULT_URGENCY_MODEL
from tests.fixtures.hashing_encoder import HashingEncoder
from training.urgency_emergency_training import FALSE_ALARM_BUDGET
from training.urgency_public_sets import PublicMessage, read_bitext, read_clinc
from training.urgency_training import DEFAULT_DATA, prepare, read_examples, score_split


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


def test_shipped_manifest_records_test_figures_and_the_calibrated_trade_off() -> None:
    manifest = json.loads((DEFAULT_URGENCY_MODEL / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["type"] == "urgency-classifier"
    assert manifest["metrics"]["test"]["macro_f1"] >= 0.80
    emergency = manifest["metrics"]["emergency"]
    chosen = emergency["chosen"]
    # The threshold in use is the calibrated one, within the stated false-alarm budget.
    assert manifest["params"]["emergency_threshold"] == chosen["threshold"]
    assert chosen["false_alarms_per_1000_routine"] <= FALSE_ALARM_BUDGET
    assert str(int(FALSE_ALARM_BUDGET)) in emergency["trade_off"]
    curve = chosen["curve"]
    assert [p["threshold"] for p in curve] == sorted(p["threshold"] for p in curve)
    # A higher threshold never finds more emergencies nor raises more false alarms.
    for low, high in itertools.pairwise(curve):
        assert high["recall"] <= low["recall"]
        assert high["false_alarms_per_1000"] <= low["false_alarms_per_1000"]


def test_shipped_manifest_records_the_intent_feature_decision() -> None:
    manifest = json.loads((DEFAULT_URGENCY_MODEL / "manifest.json").read_text(encoding="utf-8"))
    features = json.loads((DEFAULT_URGENCY_MODEL / "features.json").read_text(encoding="utf-8"))
    validation = manifest["metrics"]["validation"]
    assert validation["intent_features"] is bool(features["intent"])
    if "with_intent" in validation:
        # Both variants were cross-validated, against a named intent model.
        assert validation["intent_model"].startswith("intent-bitext@")
    if features["intent"]:
        assert manifest["params"]["intent_model"] == validation["intent_model"]


def test_shipped_manifest_records_the_level_bias_decision() -> None:
    manifest = json.loads((DEFAULT_URGENCY_MODEL / "manifest.json").read_text(encoding="utf-8"))
    figures = manifest["metrics"]["validation"].get("level_bias")
    bias = manifest["params"].get("level_bias")
    if figures is None:  # trained before the bias existed
        assert bias is None
        return
    assert bias == (figures["bias"] if figures["kept"] else None)
    assert figures["kept"] is (figures["cross_fitted"] > figures["none"] and any(figures["bias"]))


def test_head_levels_apply_the_bias_and_cap_critical_at_high() -> None:
    proba = np.array([[0.4, 0.35, 0.2, 0.05], [0.1, 0.1, 0.1, 0.7], [0.3, 0.3, 0.35, 0.05]])
    assert head_levels(proba).tolist() == [0, 2, 2]
    assert head_levels(proba, bias=(0.0, 0.5, -0.5, 0.0)).tolist() == [1, 2, 1]


@pytest.mark.encoder
def test_shipped_model_reads_its_level_bias_next_to_the_detector(
    shipped_triager: Triager,
) -> None:
    model = shipped_triager.urgency
    assert model is not None and model.emergency is not None
    texts = ["could you resend my invoice for order 55120?", "love the new colours"]
    analyses = [MessageAnalyzer().analyze(t) for t in texts]
    focus = [a.focus_text for a in analyses]
    emb = model.encoder.encode(focus)
    signals = [a.signals for a in analyses]
    leaning = UrgencyClassifier(
        dataclasses.replace(model.heads, level_bias=(0.0, 0.0, 50.0, 0.0)),
        encoder=model.encoder,
        emergency=model.emergency,
    )
    assert [d.level for d in leaning.assess(emb, signals, texts=focus)] == ["high", "high"]
    plain = [d.level for d in model.assess(emb, signals, texts=focus)]
    assert "high" not in plain


@pytest.fixture(scope="module")
def shipped_triager(real_encoder) -> Triager:  # type: ignore[no-untyped-def]
    """The shipped intent and urgency models as the service wires them."""
    return Triager(
        intent=IntentClassifier.from_artifact(DEFAULT_INTENT_MODEL, encoder=real_encoder),
        urgency=UrgencyClassifier.from_artifact(DEFAULT_URGENCY_MODEL, encoder=real_encoder),
    )


def _urgency(triager: Triager, text: str, *, subject: str | None = None) -> UrgencyAssessment:
    result = triager.triage(TriageInput(text=text, subject=subject))
    assert result.urgency is not None
    return result.urgency


@pytest.mark.encoder
def test_shipped_model_meets_the_targets_on_the_held_out_test_split(
    real_encoder,  # type: ignore[no-untyped-def]
    shipped_triager: Triager,
) -> None:
    model = shipped_triager.urgency
    assert model is not None
    rows = [e for e in read_examples(DEFAULT_DATA) if e.split == "test"]
    assert len(rows) >= 150
    prepared = prepare(
        rows,
        encoder=real_encoder,
        analyzer=MessageAnalyzer(),
        intent=shipped_triager.intent if model.uses_intent else None,
    )
    metrics = score_split(model, prepared)
    assert metrics.macro_f1 >= 0.80, metrics.to_json()


@pytest.mark.encoder
def test_shipped_model_rarely_calls_routine_public_messages_critical(
    real_encoder,  # type: ignore[no-untyped-def]
    shipped_triager: Triager,
    shared_data: Path,
) -> None:
    """Issue 10: at most 1 % critical on Bitext and on CLINC150's non-emergency intents."""
    model = shipped_triager.urgency
    assert model is not None and model.emergency is not None
    rng = random.Random(5)
    bitext = rng.sample(
        read_bitext(shared_data / "bitext_customer_support.csv", side="held_out"), 400
    )
    clinc = read_clinc(shared_data / "clinc150_val.csv")
    other = rng.sample([m for m in clinc if m.situation is None], 400)
    fraud = [m for m in clinc if m.situation is not None]
    analyzer = MessageAnalyzer()

    def critical(messages: list[PublicMessage]) -> int:
        analyses = [analyzer.analyze(m.text) for m in messages]
        focus = [a.focus_text for a in analyses]
        vectors = real_encoder.encode(focus)
        decisions = model.assess(vectors, [a.signals for a in analyses], texts=focus)
        return sum(d.level == "critical" for d in decisions)

    assert critical(bitext) <= 4  # 1 % of 400
    assert critical(other) <= 4
    assert critical(fraud) >= 0.8 * len(fraud)


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
        ("Hi! Small thing: my kettle's base melted and sparked this morning.", {"critical"}),
        # All-caps rage about a trivial request is strong anger: high, not critical.
        ("WHY IS THE NEWSLETTER SO UGLY?!?! honestly", {"high"}),
        ("The stroller's brake snapped and my baby rolled into the road.", {"critical"}),
    ],
)
def test_shipped_model_on_adversarial_wording(
    shipped_triager: Triager, text: str, allowed: set[str]
) -> None:
    decision = _urgency(shipped_triager, text)
    assert decision.level in allowed, decision


@pytest.mark.encoder
@pytest.mark.parametrize(
    "text",
    [
        "you people are clowns, where do I download a copy of my invoice",
        "Absolutely furious. Your app keeps resetting my language to French.",
        "I asked how to change my username and got a link to the homepage. Never shopping "
        "with you again.",
    ],
)
def test_strong_anger_about_a_small_request_is_high_and_says_so(
    shipped_triager: Triager, text: str
) -> None:
    decision = _urgency(shipped_triager, text)
    assert decision.level == "high", decision
    assert "strong anger" in decision.reasons


@pytest.mark.encoder
@pytest.mark.parametrize(
    "text",
    [
        "a bit annoying that the invoice page is hidden, where do I download it?",
        "ugh, the newsletter comes every day now. can I get it weekly?",
    ],
)
def test_mild_annoyance_about_a_small_request_stays_below_high(
    shipped_triager: Triager, text: str
) -> None:
    decision = _urgency(shipped_triager, text)
    assert decision.level in {"low", "normal"}, decision


@pytest.mark.encoder
@pytest.mark.parametrize(
    "text", ["where is my order", "where is my order?", "Where is my parcel? Ordered yesterday."]
)
def test_plain_status_question_is_normal_with_a_reason(shipped_triager: Triager, text: str) -> None:
    decision = _urgency(shipped_triager, text)
    assert decision.level == "normal", decision
    assert decision.reasons


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
def test_request_buried_in_paragraph_three_is_still_critical(shipped_triager: Triager) -> None:
    analysis = MessageAnalyzer().analyze(LONG_EMAIL, subject="Payments on my card")
    assert "did not make" in analysis.focus_text
    assert "Thank you for your order" not in analysis.focus_text
    decision = _urgency(shipped_triager, LONG_EMAIL, subject="Payments on my card")
    assert decision.level == "critical"
    assert "mentions unauthorized charges" in decision.reasons
