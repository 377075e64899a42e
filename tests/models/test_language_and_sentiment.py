"""Language detection (short texts, non-English) and support-tuned sentiment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.language_detector import LanguageDetector
from models.sentiment_analyzer import SentimentAnalyzer

LANGUAGE_DATA = Path(__file__).resolve().parents[2] / "training" / "data" / "language"


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector().load()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("refund pls", "en"),
        ("cant log in", "en"),
        ("Wo bleibt mein Paket? Ich warte seit zwei Wochen.", "de"),
        ("Bonjour, je voudrais annuler ma commande 1234567 svp", "fr"),
        ("¿Dónde está mi pedido?", "es"),
    ],
)
def test_detects_language_of_short_support_messages(
    detector: LanguageDetector, text: str, code: str
) -> None:
    guess = detector.detect(text)
    assert guess.code == code
    assert guess.supported is (code == "en")


def test_text_without_letters_is_undetermined_not_unsupported(detector: LanguageDetector) -> None:
    guess = detector.detect("#4411829 ???")
    assert (guess.code, guess.supported) == ("und", True)


def test_detection_is_deterministic(detector: LanguageDetector) -> None:
    text = "Il pacco non è mai arrivato"
    assert {detector.detect(text) for _ in range(5)} == {detector.detect(text)}


@pytest.mark.parametrize("name", ["language_check.jsonl", "language_holdout.jsonl"])
def test_accuracy_on_the_short_message_sets(detector: LanguageDetector, name: str) -> None:
    lines = (LANGUAGE_DATA / name).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    correct = sum(detector.detect(r["text"]).code == r["lang"] for r in rows)
    assert correct / len(rows) >= 0.93
    english = [r for r in rows if r["lang"] == "en"]
    assert all(detector.detect(r["text"]).supported for r in english)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I was charged twice, please refund me", "negative"),
        ("My order is 9 days late and still missing", "negative"),
        ("Thanks so much, love the new boots!", "positive"),
        ("Can I change my delivery address?", "neutral"),
        ("Please help", "neutral"),
        ("Can I pay with PayPal or Apple Pay?", "neutral"),
        ("I want to cancel my order", "neutral"),
        ("Do you sell gift cards?", "neutral"),
        ("THIS IS A JOKE. WHERE DO I CHANGE MY ADDRESS", "negative"),
    ],
)
def test_sentiment_labels(text: str, label: str) -> None:
    sentiment = SentimentAnalyzer().analyze(text)
    assert sentiment.label == label
    assert -1.0 <= sentiment.score <= 1.0
