"""POST /v1/respond: triage a message and decide to auto-reply, suggest, or escalate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, field_validator

from models.triager import ConversationTurn
from service.api.triage import to_response as triage_response
from service.deps import ResourcesDep
from service.orders.customer_identity import CustomerIdentity
from service.orders.order import Order
from service.respond.decision import Action
from service.respond.respond_input import RespondInput
from service.respond.response_pipeline import RespondOutcome, ResponsePipeline
from service.schemas import (
    MAX_HISTORY_TURNS,
    MAX_TEXT_CHARS,
    Channel,
    TriageResponse,
    TurnIn,
    WireModel,
)

router = APIRouter(tags=["respond"])


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain non-whitespace characters")
    return value


class MessageIn(WireModel):
    """The customer's new message."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    subject: Annotated[str | None, Field(default=None, max_length=1_000)] = None
    channel: Channel = "email"

    _text_not_blank = field_validator("text")(_not_blank)


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
    history: Annotated[list[TurnIn], Field(default_factory=list, max_length=MAX_HISTORY_TURNS)]


class ReplyOut(BaseModel):
    """The text to send to the customer."""

    text: str


class OrderItemOut(BaseModel):
    """One line of an order."""

    name: str
    quantity: int
    sku: str | None


class OrderOut(BaseModel):
    """The verified order the decision is about (never someone else's)."""

    id: str
    status: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    placed_at: datetime
    shipped_at: datetime | None
    estimated_delivery: date | None
    delivered_at: datetime | None
    items: list[OrderItemOut]


class CitationOut(BaseModel):
    """Where a suggestion comes from."""

    doc_id: str
    title: str
    url: str | None
    snippet: str


class SuggestionOut(BaseModel):
    """A reply draft (or, without a drafter, a knowledge-base passage) for the agent."""

    id: str
    text: str
    citations: list[CitationOut]
    grounded: bool
    confidence: float


class RespondResponse(BaseModel):
    """What to do with the message, why, and the triage it is based on."""

    action: Action
    reply: ReplyOut | None
    triage: TriageResponse
    reasons: list[str]
    order: OrderOut | None
    suggestions: list[SuggestionOut]
    #: Id to send with ``POST /v1/feedback`` (each draft's own id works too).
    suggestion_id: str | None = None
    #: The knowledge base held no answer: the only draft is a holding reply.
    needs_agent: bool = False


def get_responder(resources: ResourcesDep) -> ResponsePipeline:
    """The respond pipeline; 503 when the resources were built without one."""
    if resources.responder is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "respond pipeline is not loaded")
    return resources.responder


ResponderDep = Annotated[ResponsePipeline, Depends(get_responder)]


def to_input(body: RespondRequest) -> RespondInput:
    """Wire request to domain input."""
    return RespondInput(
        text=body.message.text,
        subject=body.message.subject,
        channel=body.message.channel,
        customer=CustomerIdentity(
            id=body.customer.id, email=body.customer.email, name=body.customer.name
        ),
        conversation_id=body.conversation_id,
        history=tuple(ConversationTurn(t.role, t.text, t.at) for t in body.history),
    )


def order_out(order: Order) -> OrderOut:
    """Domain order to wire order (no customer fields: the caller knows who asked)."""
    return OrderOut(
        id=order.id,
        status=order.status.value,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        tracking_url=order.tracking_url,
        placed_at=order.placed_at,
        shipped_at=order.shipped_at,
        estimated_delivery=order.estimated_delivery,
        delivered_at=order.delivered_at,
        items=[OrderItemOut(name=i.name, quantity=i.quantity, sku=i.sku) for i in order.items],
    )


def to_response(outcome: RespondOutcome) -> RespondResponse:
    """Domain outcome to wire response."""
    decision = outcome.decision
    if outcome.drafts is not None:
        from service.api.suggest import drafts_out

        return RespondResponse(
            action=decision.action,
            reply=None,
            triage=triage_response(outcome.triage),
            reasons=[r.value for r in decision.reasons],
            order=order_out(decision.order) if decision.order is not None else None,
            suggestions=drafts_out(outcome.drafts),
            suggestion_id=outcome.drafts.id,
            needs_agent=outcome.drafts.needs_agent,
        )
    return RespondResponse(
        action=decision.action,
        reply=ReplyOut(text=decision.reply) if decision.reply is not None else None,
        triage=triage_response(outcome.triage),
        reasons=[r.value for r in decision.reasons],
        order=order_out(decision.order) if decision.order is not None else None,
        suggestions=[],
    )


# Plain `def`: triage encodes text and the order lookup may block; both stay off the loop.
@router.post("/respond", response_model=RespondResponse)
def respond(
    body: RespondRequest, responder: ResponderDep, resources: ResourcesDep
) -> RespondResponse:
    """Decide whether to auto-reply, suggest drafts to an agent, or escalate.

    The decision (and any drafts) is stored before the answer leaves; if the store fails
    the call fails with 503 and can be retried, so no reply goes out unrecorded.
    """
    outcome = responder.respond(to_input(body))
    if resources.feedback is not None:
        from service.api.suggest import record_respond

        record_respond(resources.feedback, body, outcome)
    return to_response(outcome)
