"""Wire schemas shared by the routers. Domain types live in ``models`` and ``kb_index``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_CHARS = 20_000
MAX_BATCH_ITEMS = 256

Channel = Literal["email", "chat", "social", "phone", "web"]


class WireModel(BaseModel):
    """Base of every request schema: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


MAX_HISTORY_TURNS = 50


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
    at: datetime | None = None


class TriageRequest(WireModel):
    """One message to triage."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Message body")]
    subject: Annotated[str | None, Field(default=None, max_length=1_000)] = None
    channel: Channel | None = None
    history: Annotated[
        list[TurnIn],
        Field(default_factory=list, max_length=MAX_HISTORY_TURNS, description="Earlier turns"),
    ]

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must contain non-whitespace characters")
        return value


class TriageBatchRequest(WireModel):
    """Up to 256 messages at once."""

    items: Annotated[list[TriageRequest], Field(min_length=1, max_length=MAX_BATCH_ITEMS)]


class AlternativeOut(BaseModel):
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


class UrgencyOut(BaseModel):
    """How soon the message needs an answer, and why."""

    level: Literal["low", "normal", "high", "critical"]
    score: float = Field(ge=0.0, le=1.0)
    reasons: list[str]


class SentimentOut(BaseModel):
    """Polarity of the message (VADER compound score)."""

    label: Literal["negative", "neutral", "positive"]
    score: float = Field(ge=-1.0, le=1.0)


class EntityOut(BaseModel):
    """An entity with character offsets into the request's ``text`` (or ``subject``)."""

    type: str
    value: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    source: Literal["text", "subject"] = "text"


class LanguageOut(BaseModel):
    """Detected language (ISO 639-1, ``und`` when undetermined)."""

    code: str
    supported: bool


class RoutingOut(BaseModel):
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


class TriageBatchResponse(BaseModel):
    """Results in the order of the request's items."""

    results: list[TriageResponse]
