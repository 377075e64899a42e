"""What drafting is asked: the message, the sender's name and what triage found in it."""

from __future__ import annotations

from dataclasses import dataclass

from models.triager import Channel, ConversationTurn


@dataclass(frozen=True)
class DraftRequest:
    """The message to answer and the tone signals triage found in it.

    Only ``text``/``subject`` and the passages ever reach an external generator; the
    name is used by the local templates alone.
    """

    text: str
    subject: str | None = None
    channel: Channel = "email"
    customer_name: str | None = None
    intent: str | None = None
    #: Calibrated confidence of ``intent`` and whether a second intent was close; an
    #: ambiguous intent does not pick articles (see ``SuggestionService``).
    intent_confidence: float | None = None
    intent_ambiguous: bool = False
    sentiment: str | None = None
    urgency: str | None = None
    history: tuple[ConversationTurn, ...] = ()
    #: Order numbers triage found in the message (``TriageResult.order_ids``); the draft
    #: asks for one only when there are none.
    order_ids: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        """Subject and body as one search text."""
        return f"{self.subject}\n{self.text}" if self.subject else self.text
