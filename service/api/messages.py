"""GET /v1/messages (the agents' queue) and GET /v1/messages/{id}: the message log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from service.deps import MessageLogDep, TimeWindowDep
from service.messages.message_entry import MessageEntry
from service.messages.message_log_store import MessageFilter
from service.respond.decision import Action
from service.schemas import TriageResponse

router = APIRouter(tags=["messages"])

MAX_PAGE = 200


class TurnOut(BaseModel):
    """An earlier turn of the conversation, as the caller sent it (redacted)."""

    role: str
    text: str
    at: datetime | None = None


class CitationLogOut(BaseModel):
    """An article a draft cites."""

    doc_id: str
    title: str
    url: str | None = None
    snippet: str = ""


class QuoteOut(BaseModel):
    """A sentence the draft quotes verbatim from the article ``doc_id``."""

    doc_id: str
    text: str


class DraftLogOut(BaseModel):
    """A draft as it was offered (its ``id`` is what ``POST /v1/feedback`` takes)."""

    id: str
    text: str
    grounded: bool
    confidence: float
    citations: list[CitationLogOut]
    quotes: list[QuoteOut] = Field(default_factory=list)


class MessageOut(BaseModel):
    """One logged message: what was triaged, decided and offered (texts redacted)."""

    id: str
    created_at: datetime
    #: ``triage``, ``triage_batch``, ``respond`` or ``suggest``.
    source: str
    channel: str | None
    subject: str | None
    text: str
    intent: str | None
    confidence: float
    out_of_scope: bool
    urgency: str | None
    queue: str | None
    priority: str | None
    action: Action | None
    #: The reason codes of the decision (``/v1/respond`` only).
    reasons: list[str]
    #: What was sent to the customer (auto-replies).
    reply: str | None
    needs_agent: bool | None
    suggestion_id: str | None
    conversation_id: str | None
    triage: TriageResponse
    drafts: list[DraftLogOut]
    history: list[TurnOut]
    has_embedding: bool

    @classmethod
    def from_domain(cls, entry: MessageEntry) -> MessageOut:
        """The wire form of a log entry."""
        detail: dict[str, Any] = dict(entry.detail)
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            source=entry.source,
            channel=entry.channel,
            subject=entry.subject,
            text=entry.text,
            intent=entry.intent,
            confidence=entry.confidence,
            out_of_scope=entry.out_of_scope,
            urgency=entry.urgency,
            queue=entry.queue,
            priority=entry.priority,
            action=Action(entry.action) if entry.action is not None else None,
            reasons=list(detail.get("reasons", [])),
            reply=detail.get("reply"),
            needs_agent=entry.needs_agent,
            suggestion_id=entry.suggestion_id,
            conversation_id=entry.conversation_id,
            triage=TriageResponse.model_validate(detail["triage"]),
            drafts=[DraftLogOut.model_validate(d) for d in detail.get("drafts", [])],
            history=[TurnOut.model_validate(t) for t in detail.get("history", [])],
            has_embedding=entry.embedding is not None,
        )


class MessagePageOut(BaseModel):
    """A page of the queue, newest first."""

    items: list[MessageOut]
    total: int
    offset: int
    #: Pass as ``offset`` for the next page; ``null`` on the last one.
    next_offset: int | None


def get_message_filter(
    window: TimeWindowDep,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    urgency: Literal["low", "normal", "high", "critical"] | None = None,
    action: Action | None = None,
    needs_agent: bool | None = None,
    intent: Annotated[str | None, Query(max_length=64)] = None,
    source: Literal["triage", "triage_batch", "respond", "suggest"] | None = None,
) -> MessageFilter:
    """The queue filters of the query string."""
    return MessageFilter(
        queue=queue,
        urgency=urgency,
        action=action.value if action is not None else None,
        needs_agent=needs_agent,
        intent=intent,
        source=source,
        since=window.since,
        until=window.until,
    )


@router.get("/messages", response_model=MessagePageOut)
def list_messages(
    log: MessageLogDep,
    filters: Annotated[MessageFilter, Depends(get_message_filter)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> MessagePageOut:
    """Logged messages matching the filters, newest first."""
    page = log.page(filters, limit=limit, offset=offset)
    return MessagePageOut(
        items=[MessageOut.from_domain(e) for e in page.items],
        total=page.total,
        offset=page.offset,
        next_offset=page.next_offset,
    )


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(
    log: MessageLogDep, message_id: Annotated[str, Path(min_length=1, max_length=32)]
) -> MessageOut:
    """One logged message."""
    return MessageOut.from_domain(log.get(message_id))
