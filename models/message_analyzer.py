"""Everything the triage models need from one raw message, computed the same way everywhere.

The urgency trainer and the live pipeline both go through :class:`MessageAnalyzer`, so the
model is trained on exactly the text, entities, sentiment and signals it sees in service.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.entity_extractor import Entity, EntityExtractor
from models.message_cleaner import CleanedMessage, LineKind, MessageCleaner
from models.sentiment_analyzer import Sentiment, SentimentAnalyzer
from models.urgency_signals import UrgencySignalExtractor, UrgencySignals

# The encoder reads 256 word pieces; ~150 words of focus text stay within that.
FOCUS_WORDS = 150


@dataclass(frozen=True)
class MessageAnalysis:
    """A cleaned message with its entities (original offsets), sentiment and signals.

    Entities found in the body carry offsets into the original ``text``; those found
    in the subject have ``source="subject"`` and offsets into the subject.
    """

    cleaned: CleanedMessage
    focus_text: str
    signal_text: str
    entities: tuple[Entity, ...]
    sentiment: Sentiment
    signals: UrgencySignals


class MessageAnalyzer:
    """Cleanup, entities, sentiment and urgency signals of one message. Thread-safe."""

    def __init__(
        self,
        *,
        cleaner: MessageCleaner | None = None,
        entities: EntityExtractor | None = None,
        sentiment: SentimentAnalyzer | None = None,
        signals: UrgencySignalExtractor | None = None,
        focus_words: int = FOCUS_WORDS,
    ) -> None:
        self.cleaner = cleaner or MessageCleaner()
        self.entities = entities or EntityExtractor()
        self.sentiment = sentiment or SentimentAnalyzer()
        self.signals = signals or UrgencySignalExtractor()
        self.focus_words = focus_words

    def _focus(self, cleaned: CleanedMessage, text: str) -> str:
        return cleaned.focus_text(max_words=self.focus_words) or " ".join(text.split())

    def focus_text(self, text: str, *, subject: str | None = None) -> str:
        """What the classifiers read of a message (training texts must be read the same)."""
        return self._focus(self.cleaner.clean(text, subject=subject), text)

    def analyze(
        self, text: str, *, subject: str | None = None, prior_contacts: int = 0
    ) -> MessageAnalysis:
        """Analyse one message; ``prior_contacts`` counts earlier customer messages."""
        cleaned = self.cleaner.clean(text, subject=subject)
        # Entities come from what the customer wrote now plus the signature (a phone
        # number there is the customer's), never from the quoted thread.
        view = cleaned.view([LineKind.BODY, LineKind.SIGNATURE])
        found = []
        for e in self.entities.extract(view.text):
            start, end = view.original_span(e.start, e.end)
            found.append(Entity(type=e.type, value=e.value, start=start, end=end))
        if subject:
            found.extend(
                Entity(type=e.type, value=e.value, start=e.start, end=e.end, source="subject")
                for e in self.entities.extract(subject)
            )
        body = cleaned.body.text
        signal_text = f"{cleaned.subject}\n{body}" if cleaned.subject else body
        if not signal_text.strip():
            signal_text = cleaned.visible.text
        sentiment = self.sentiment.analyze(signal_text)
        signals = self.signals.extract(
            signal_text,
            entities=[e for e in found if e.type == "money"],
            sentiment=sentiment.score,
            prior_contacts=prior_contacts,
        )
        return MessageAnalysis(
            cleaned=cleaned,
            focus_text=self._focus(cleaned, text),
            signal_text=signal_text,
            entities=tuple(found),
            sentiment=sentiment,
            signals=signals,
        )
