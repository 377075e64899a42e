"""The triager: one message in, every triage signal out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from models.entity_extractor import Entity, order_ids_of
from models.errors import InvalidInputError
from models.intent_classifier import IntentClassifier, IntentPrediction
from models.language_detector import LanguageDetector, LanguageGuess
from models.message_analyzer import MessageAnalyzer
from models.routing_policy import RoutingDecision, RoutingPolicy
from models.sentiment_analyzer import Sentiment
from models.urgency_classifier import UrgencyAssessment, UrgencyClassifier

#: Where a message arrived; drafts and auto-replies take the form the channel needs.
Channel = Literal["email", "chat", "social", "phone", "web"]


@dataclass(frozen=True)
class ConversationTurn:
    """An earlier message of the conversation: who wrote it, what, and when."""

    role: str  # "customer" or "agent"
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class TriageInput:
    """A customer message as the helpdesk hands it over."""

    text: str
    subject: str | None = None
    channel: str | None = None
    history: tuple[ConversationTurn, ...] = ()

    @property
    def prior_customer_messages(self) -> int:
        """Earlier messages from the customer in this conversation (repeat contact)."""
        return sum(1 for turn in self.history if turn.role == "customer")


@dataclass(frozen=True)
class TriageResult:
    """Every signal computed for one message."""

    intent: IntentPrediction
    model_version: str
    #: False when the intent cannot be relied on (e.g. a language the model was not
    #: trained on); ``untrusted_reason`` then says why.
    intent_trusted: bool = True
    untrusted_reason: str | None = None
    urgency: UrgencyAssessment | None = None
    sentiment: Sentiment | None = None
    #: Entities of the body (offsets into ``text``), then of the subject.
    entities: tuple[Entity, ...] = ()
    language: LanguageGuess | None = None
    routing: RoutingDecision | None = None
    #: What the models read: subject plus the customer's new text, or for long
    #: messages its most request-like sentences.
    focus_text: str = ""
    #: The sentence embedding the models read: of ``focus_text`` as the intent model reads
    #: it (typos corrected), kept so the message log can store it for clustering and
    #: drafting can search with it, without encoding the text a second time.
    embedding: npt.NDArray[np.float32] | None = field(default=None, repr=False, compare=False)

    @property
    def intent_label(self) -> str | None:
        """The intent, or ``None`` when the message is out of scope."""
        return None if self.intent.out_of_scope else self.intent.label

    @property
    def urgency_level(self) -> str | None:
        """The urgency level, when urgency was assessed."""
        return self.urgency.level if self.urgency is not None else None

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The order numbers the message names (body, then subject); see ``order_ids_of``."""
        return order_ids_of(self.entities)


class Triager:
    """Runs the triage models over messages. Pure and thread-safe after construction."""

    def __init__(
        self,
        *,
        intent: IntentClassifier,
        urgency: UrgencyClassifier | None = None,
        language: LanguageDetector | None = None,
        routing: RoutingPolicy | None = None,
        analyzer: MessageAnalyzer | None = None,
    ) -> None:
        if urgency is not None and urgency.encoder.model_id != intent.encoder.model_id:
            raise ValueError("the urgency and intent models must share one encoder")
        if urgency is not None:
            urgency.check_intent_model(intent)
        self.intent = intent
        self.urgency = urgency
        self.language = language
        self.routing = routing
        self.analyzer = analyzer or MessageAnalyzer()

    def triage(self, message: TriageInput) -> TriageResult:
        """Triage one message."""
        return self.triage_many([message])[0]

    def triage_many(self, messages: Sequence[TriageInput]) -> list[TriageResult]:
        """Triage a batch; encoding runs once for the whole batch."""
        if not messages:
            return []
        for i, m in enumerate(messages):
            if not m.text.strip():
                raise InvalidInputError(f"text #{i} is empty")
        analyses = [
            self.analyzer.analyze(
                m.text, subject=m.subject, prior_contacts=m.prior_customer_messages
            )
            for m in messages
        ]
        # The intent head and the emergency detector both read these texts' hashed n-grams:
        # counted once (``CountedTexts``), with typos corrected as the intent model reads them.
        texts = self.intent.read(a.focus_text for a in analyses)
        # One encoder pass serves the intent and the urgency model.
        embeddings = self.intent.encoder.encode(texts)
        intents = self.intent.predict_embedded(embeddings, texts)
        urgencies: Sequence[UrgencyAssessment | None] = (
            self.urgency.assess(
                embeddings,
                [a.signals for a in analyses],
                # The intent model already ran: its category probabilities feed urgency.
                intents=intents,
                texts=texts,
            )
            if self.urgency is not None
            else [None] * len(messages)
        )
        results = []
        for analysis, intent, urgency, embedding in zip(
            analyses, intents, urgencies, embeddings, strict=True
        ):
            language = self.language.detect(analysis.signal_text) if self.language else None
            trusted, reason = True, None
            if language is not None and not language.supported:
                trusted = False
                reason = f"language {language.code!r} is not supported by the intent model"
            routing = None
            if self.routing is not None and urgency is not None:
                category = intent.category if trusted and not intent.out_of_scope else None
                routing = self.routing.route(
                    category=category,
                    urgency=urgency.level,
                    language_supported=language.supported if language else True,
                )
            results.append(
                TriageResult(
                    intent=intent,
                    model_version=self.intent.version,
                    intent_trusted=trusted,
                    untrusted_reason=reason,
                    urgency=urgency,
                    sentiment=analysis.sentiment,
                    entities=analysis.entities,
                    language=language,
                    routing=routing,
                    focus_text=analysis.focus_text,
                    embedding=embedding,
                )
            )
        return results
