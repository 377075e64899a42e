"""Sentiment of a customer message: VADER with a lexicon adjusted to support language.

VADER (Hutto & Gilbert, 2014) is a lexicon-and-rules model built for short social-media
text: it reads capitals, exclamation marks, intensifiers and negation, needs no training
data and runs offline in microseconds. Support mail has its own vocabulary, so politeness
words that VADER counts as positive ("please", "help") and shop words it counts as negative
("pay", "cancel") are neutralised, and a few
complaint words it does not know ("late", "missing", "defective") get negative weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as _Vader

# VADER lower-cases every word of the text again for each sentiment word it scores, so its
# cost grows with the square of the length (18 s for 20,000 characters of "order no").
# Longer messages are scored on their first and last words: where customers say what is
# wrong and how they feel about it. Shorter ones, nearly all, are scored whole as before.
MAX_WORDS: Final = 256

# Compound-score cut-offs recommended by the VADER authors.
POSITIVE_AT: Final = 0.05
NEGATIVE_AT: Final = -0.05

SUPPORT_LEXICON: Final[dict[str, float]] = {
    # Politeness, not sentiment.
    "please": 0.0,
    "pls": 0.0,
    "plz": 0.0,
    "kindly": 0.0,
    "help": 0.0,
    "hope": 0.0,
    "hoping": 0.0,
    "refund": 0.0,
    "free": 0.0,
    # Shop vocabulary, not sentiment: "can I pay with PayPal", "cancel my order", "gift card".
    "pay": 0.0,
    "want": 0.0,
    "cancel": 0.0,
    "cancelled": 0.0,
    "gift": 0.0,
    # Complaint vocabulary VADER lacks or underweights.
    "late": -1.2,
    "overdue": -1.4,
    "missing": -1.2,
    "damaged": -1.6,
    "defective": -1.6,
    "faulty": -1.6,
    "unauthorized": -1.6,
    "unauthorised": -1.6,
    "declined": -1.0,
    "cracked": -1.4,
    "ignored": -1.6,
    "ignoring": -1.6,
    "unacceptable": -2.2,
    "ridiculous": -1.8,
    "useless": -1.9,
    "rubbish": -1.8,
    "joke": -1.5,  # "this is a joke" is a complaint, not amusement
}


@dataclass(frozen=True)
class Sentiment:
    """Polarity of a message: ``score`` in [-1, 1] (VADER compound) and its label."""

    label: str
    score: float


class SentimentAnalyzer:
    """VADER sentiment with the support lexicon. Thread-safe after construction."""

    name = "vader-support"

    def __init__(self) -> None:
        self._vader = _Vader()
        self._vader.lexicon.update(SUPPORT_LEXICON)

    @property
    def version(self) -> str:
        """Identifier for the readiness probe."""
        from importlib.metadata import version

        return f"{self.name}@vaderSentiment-{version('vaderSentiment')}"

    def analyze(self, text: str) -> Sentiment:
        """Sentiment of ``text``; empty text is neutral."""
        if not text.strip():
            return Sentiment("neutral", 0.0)
        words = text.split()
        if len(words) > MAX_WORDS:
            text = " ".join(words[: MAX_WORDS // 2] + words[-(MAX_WORDS // 2) :])
        score = float(self._vader.polarity_scores(text)["compound"])
        if score >= POSITIVE_AT:
            label = "positive"
        elif score <= NEGATIVE_AT:
            label = "negative"
        else:
            label = "neutral"
        return Sentiment(label, round(score, 4))
