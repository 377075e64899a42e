"""The triage pipeline: one message in, every triage signal out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.intent_classifier import IntentClassifier, IntentPrediction


@dataclass(frozen=True)
class TriageInput:
    """A customer message as the helpdesk hands it over."""

    text: str
    subject: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class TriageResult:
    """Every signal computed for one message."""

    intent: IntentPrediction
    model_version: str


class Triager:
    """Runs the triage models over messages. Pure and thread-safe after construction."""

    def __init__(self, *, intent: IntentClassifier) -> None:
        self.intent = intent

    @staticmethod
    def classification_text(message: TriageInput) -> str:
        """Subject and body as one text, the way the classifier sees the message."""
        body = message.text.strip()
        subject = (message.subject or "").strip()
        if subject and subject.lower() not in body.lower():
            return f"{subject}\n{body}"
        return body

    def triage(self, message: TriageInput) -> TriageResult:
        """Triage one message."""
        return self.triage_many([message])[0]

    def triage_many(self, messages: Sequence[TriageInput]) -> list[TriageResult]:
        """Triage a batch; encoding runs once for the whole batch."""
        texts = [self.classification_text(m) for m in messages]
        intents = self.intent.predict(texts)
        return [TriageResult(intent=i, model_version=self.intent.version) for i in intents]
