"""Wire schemas shared by several routers, and how they map to and from domain types.

Schemas used by one router only live in that router's module. Domain types live in
``models``, ``kb_index`` and the service's feature packages; a schema converts with
``to_domain()`` (requests) or ``from_domain()`` (responses), so each mapping is written
once and every router is wire → one domain call → wire.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from models.triager import Channel, ConversationTurn, TriageInput, TriageResult
from service.drafting.draft import Draft
from service.orders.customer_identity import CustomerIdentity
from service.respond.respond_input import RespondInput

MAX_TEXT_CHARS = 20_000
MAX_BATCH_ITEMS = 256
MAX_HISTORY_TURNS = 50
Out = TypeVar("Out", bound="DomainOut")


# C0 and C1 control characters except tab and newline (carriage returns are turned into
# newlines first), and lone surrogates, which no UTF-8 store can hold: PostgreSQL refuses a
# NUL, so without this check a message with one failed as 503 "retry" although no retry
# could ever succeed.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def normalize_text(value: str) -> str:
    """``value`` as every part of the service reads text: Unicode NFC, line breaks as ``\\n``.

    Raises:
        ValueError: ``value`` holds a control character other than newline and tab (NUL
            included), or a lone surrogate; the message names the character and position.
    """
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _FORBIDDEN_CHARS.search(value)
    if bad is not None:
        raise ValueError(
            f"contains the character U+{ord(bad.group()):04X} at position {bad.start()}; "
            "control characters other than newline and tab are not accepted"
        )
    return unicodedata.normalize("NFC", value)


def _normalized(value: Any) -> Any:
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, list) and any(isinstance(item, str) for item in value):
        return [normalize_text(item) if isinstance(item, str) else item for item in value]
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain non-whitespace characters")
    return value


#: A text with at least one non-whitespace character (``min_length`` alone lets "  " in).
NonBlankStr = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]


class WireModel(BaseModel):
    """Base of every request schema: unknown fields are an error, not silently dropped.

    Every text field of every request, nested or in a list, is normalised once here, at
    the edge, by :func:`normalize_text` (before the length limits count it): the domain
    code never sees a NUL, a stray control character or two spellings of one accented
    letter, and a refused character is a 422 naming the field. Offsets in answers count
    characters of the normalised text.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _normalize_texts(cls, value: Any) -> Any:
        return _normalized(value)


class DomainOut(BaseModel):
    """Base of a response schema whose fields are read from a domain object's attributes
    of the same names: ``SomethingOut.model_validate(domain_object)``."""

    model_config = ConfigDict(from_attributes=True)


class ErrorFieldOut(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="A sentence naming the problem.")
    code: str = Field(description="Machine-readable error code.")
    errors: list[ErrorFieldOut] | None = None


class TurnIn(WireModel):
    """An earlier message of the conversation (for repeat-contact detection)."""

    role: Literal["customer", "agent"]
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
    at: datetime | None = Field(
        default=None,
        description="When it was sent: an ISO-8601 date-time or Unix seconds, kept as given.",
    )


History = Annotated[
    list[TurnIn],
    Field(default_factory=list, max_length=MAX_HISTORY_TURNS, description="Earlier turns"),
]


def history_to_domain(turns: list[TurnIn]) -> tuple[ConversationTurn, ...]:
    """Wire history to the domain's conversation turns, oldest first."""
    return tuple(ConversationTurn(t.role, t.text, t.at) for t in turns)


# -- triage --------------------------------------------------------------------------------


class TriageRequest(WireModel):
    """One message to triage."""

    text: Annotated[NonBlankStr, Field(max_length=MAX_TEXT_CHARS, description="Message body")]
    subject: Annotated[str | None, Field(default=None, max_length=1_000)] = None
    channel: Channel | None = None
    history: History

    def to_domain(self) -> TriageInput:
        """The message as the triager takes it."""
        return TriageInput(
            text=self.text,
            subject=self.subject,
            channel=self.channel,
            history=history_to_domain(self.history),
        )


class TriageBatchRequest(WireModel):
    """Up to 256 messages at once."""

    items: Annotated[list[TriageRequest], Field(min_length=1, max_length=MAX_BATCH_ITEMS)]


class AlternativeOut(DomainOut):
    """A runner-up intent."""

    label: str
    confidence: float


class IntentOut(BaseModel):
    """The intent part of a triage result."""

    label: str
    confidence: float = Field(ge=0.0, le=1.0)
    category: str | None
    alternatives: list[AlternativeOut]
    out_of_scope: bool
    ambiguous: bool


class UrgencyOut(DomainOut):
    """How soon the message needs an answer, and why."""

    level: Literal["low", "normal", "high", "critical"]
    score: float = Field(ge=0.0, le=1.0)
    reasons: list[str]


class SentimentOut(DomainOut):
    """Polarity of the message (VADER compound score)."""

    label: Literal["negative", "neutral", "positive"]
    score: float = Field(ge=-1.0, le=1.0)


class EntityOut(DomainOut):
    """An entity with character offsets into the request's ``text`` (or ``subject``)."""

    type: str
    value: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    source: Literal["text", "subject"] = "text"


class LanguageOut(DomainOut):
    """Detected language (ISO 639-1, ``und`` when undetermined)."""

    code: str
    supported: bool


class RoutingOut(DomainOut):
    """Queue and priority from the routing file."""

    queue: str
    priority: str


class TriageResponse(BaseModel):
    """Every triage signal for one message."""

    intent: IntentOut
    intent_trusted: bool = True
    untrusted_reason: str | None = None
    urgency: UrgencyOut | None = None
    sentiment: SentimentOut | None = None
    entities: list[EntityOut] = Field(default_factory=list)
    language: LanguageOut | None = None
    routing: RoutingOut | None = None
    focus_text: str | None = None
    model_version: str

    @classmethod
    def from_domain(cls, result: TriageResult) -> TriageResponse:
        """The wire form of a triage result."""
        intent = result.intent
        return cls(
            intent=IntentOut(
                label=intent.label,
                confidence=intent.confidence,
                category=intent.category,
                alternatives=[AlternativeOut.model_validate(a) for a in intent.alternatives],
                out_of_scope=intent.out_of_scope,
                ambiguous=intent.ambiguous,
            ),
            intent_trusted=result.intent_trusted,
            untrusted_reason=result.untrusted_reason,
            urgency=_optional(UrgencyOut, result.urgency),
            sentiment=_optional(SentimentOut, result.sentiment),
            entities=[EntityOut.model_validate(e) for e in result.entities],
            language=_optional(LanguageOut, result.language),
            routing=_optional(RoutingOut, result.routing),
            focus_text=result.focus_text or None,
            model_version=result.model_version,
        )


def _optional(schema: type[Out], value: object | None) -> Out | None:
    """``schema`` read from ``value``, or ``None`` when there is no value."""
    return schema.model_validate(value) if value is not None else None


class TriageBatchResponse(BaseModel):
    """Results in the order of the request's items."""

    results: list[TriageResponse]


# -- a message with its sender: /v1/respond and /v1/suggest ------------------------------


class MessageIn(WireModel):
    """The customer's new message."""

    text: Annotated[NonBlankStr, Field(max_length=MAX_TEXT_CHARS)]
    subject: Annotated[str | None, Field(default=None, max_length=1_000)] = None
    channel: Channel = "email"


class CustomerIn(WireModel):
    """The sender as the helpdesk authenticated them; order data is shown only to its owner."""

    id: Annotated[str | None, Field(default=None, max_length=128)] = None
    email: Annotated[str | None, Field(default=None, max_length=320)] = None
    name: Annotated[str | None, Field(default=None, max_length=200)] = None


class RespondRequest(WireModel):
    """One message to answer, with its sender and conversation."""

    message: MessageIn
    customer: CustomerIn = Field(default_factory=CustomerIn)
    conversation_id: Annotated[str | None, Field(default=None, max_length=200)] = None
    history: History

    def to_domain(self) -> RespondInput:
        """The message, sender and conversation as the response pipeline takes them."""
        return RespondInput(
            text=self.message.text,
            subject=self.message.subject,
            channel=self.message.channel,
            customer=CustomerIdentity(
                id=self.customer.id, email=self.customer.email, name=self.customer.name
            ),
            conversation_id=self.conversation_id,
            history=history_to_domain(self.history),
        )


class CitationOut(DomainOut):
    """Where a suggestion comes from."""

    doc_id: str
    title: str
    url: str | None
    snippet: str


class SuggestionOut(BaseModel):
    """A reply draft for the agent."""

    id: str
    text: str
    citations: list[CitationOut]
    grounded: bool
    confidence: float

    @classmethod
    def from_domain(cls, draft: Draft) -> SuggestionOut:
        """The wire form of a draft."""
        return cls(
            id=draft.id,
            text=draft.text,
            citations=[CitationOut.model_validate(c) for c in draft.citations],
            grounded=draft.grounded,
            confidence=max(0.0, min(1.0, draft.confidence)),
        )


class JobOut(DomainOut):
    """A background job: its kind, state, progress and, once finished, result or error."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    attempts: int
    done: int
    total: int | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
