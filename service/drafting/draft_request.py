"""What drafting is asked: the message, the sender's name and what triage found in it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

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
    #: What triage read of the message (``TriageResult.focus_text``: subject and body
    #: without the quoted thread, signature or disclaimer) and its sentence vector. The
    #: knowledge base is searched with them: an e-mail's quoted history would only blur
    #: the search, and the vector is already computed, so a suggestion encodes nothing more
    #: of the message.
    focus_text: str | None = None
    focus_vector: npt.NDArray[np.float32] | None = field(default=None, repr=False, compare=False)

    @property
    def query(self) -> str:
        """Subject and body as one text (what a generator is shown)."""
        return f"{self.subject}\n{self.text}" if self.subject else self.text

    @property
    def search_text(self) -> str:
        """What the knowledge base is searched with: the focus text when triage gave one."""
        return self.focus_text or self.query
