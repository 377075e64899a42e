"""Language detection (short texts, non-English) and support-tuned sentiment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.language_detector import LanguageDetector
from models.sentiment_analyzer import SentimentAnalyzer

CHECK_SET = (
    Path(__file__).resolve().parents[2] / "training" / "data" / "language" / "language_check.jsonl"
)


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


def test_accuracy_on_the_language_check_set(detector: LanguageDetector) -> None:
    rows = [json.loads(line) for line in CHECK_SET.read_text(encoding="utf-8").splitlines()]
    correct = sum(detector.detect(r["text"]).code == r["lang"] for r in rows)
    assert correct / len(rows) >= 0.95


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I was charged twice, please refund me", "negative"),
        ("My order is 9 days late and still missing", "negative"),
        ("Thanks so much, love the new boots!", "positive"),
        ("Can I change my delivery address?", "neutral"),
        ("Please help", "neutral"),
    ],
)
def test_sentiment_labels(text: str, label: str) -> None:
    sentiment = SentimentAnalyzer().analyze(text)
    assert sentiment.label == label
    assert -1.0 <= sentiment.score <= 1.0
