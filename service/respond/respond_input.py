"""What ``/v1/respond`` is asked about: a message, its sender and the conversation so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.triager import Channel, ConversationTurn, TriageInput
from service.orders.customer_identity import CustomerIdentity

AGENT = "agent"


@dataclass(frozen=True)
class RespondInput:
    """One incoming message with the authenticated sender and earlier turns (oldest first)."""

    text: str
    subject: str | None = None
    channel: Channel = "email"
    customer: CustomerIdentity = field(default_factory=CustomerIdentity)
    conversation_id: str | None = None
    history: tuple[ConversationTurn, ...] = ()

    @property
    def triage_input(self) -> TriageInput:
        """The message as the triager takes it."""
        return TriageInput(
            text=self.text, subject=self.subject, channel=self.channel, history=self.history
        )

    @property
    def unanswered_customer_turns(self) -> int:
        """Earlier customer turns after the last agent turn (the customer keeps writing)."""
        count = 0
        for turn in reversed(self.history):
            if turn.role == AGENT:
                break
            count += 1
        return count

    @property
    def agent_turns(self) -> tuple[ConversationTurn, ...]:
        """Earlier replies to the customer."""
        return tuple(t for t in self.history if t.role == AGENT)
