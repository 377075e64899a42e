"""Wire schemas shared by the routers. Domain types live in ``models`` and ``kb_index``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_CHARS = 20_000
MAX_BATCH_ITEMS = 256

Channel = Literal["email", "chat", "social", "phone", "web"]


class WireModel(BaseModel):
    """Base of every request schema: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class TriageRequest(WireModel):
    """One message to triage."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Message body")]
    subject: Annotated[str | None, Field(default=None, max_length=1_000)] = None
    channel: Channel | None = None

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


class TriageResponse(BaseModel):
    """Every triage signal for one message."""

    intent: IntentOut
    model_version: str


class TriageBatchResponse(BaseModel):
    """Results in the order of the request's items."""

    results: list[TriageResponse]
