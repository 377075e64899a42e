"""POST /v1/respond: triage a message and decide to auto-reply, suggest, or escalate."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from service.deps import MetricsDep, PipelineThreadsDep, ResponderDep
from service.orders.order import Order
from service.respond.decision import Action
from service.respond.response_pipeline import RespondOutcome, ResponsePipeline
from service.schemas import DomainOut, RespondRequest, SuggestionOut, TriageResponse
from service.service_metrics import ServiceMetrics

router = APIRouter(tags=["respond"])


class ReplyOut(BaseModel):
    """The text to send to the customer."""

    text: str


class OrderItemOut(DomainOut):
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

    @classmethod
    def from_domain(cls, order: Order) -> OrderOut:
        """The wire form of an order (no customer fields: the caller knows who asked)."""
        return cls(
            id=order.id,
            status=order.status.value,
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            tracking_url=order.tracking_url,
            placed_at=order.placed_at,
            shipped_at=order.shipped_at,
            estimated_delivery=order.estimated_delivery,
            delivered_at=order.delivered_at,
            items=[OrderItemOut.model_validate(i) for i in order.items],
        )


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

    @classmethod
    def from_domain(cls, outcome: RespondOutcome) -> RespondResponse:
        """The wire form of a respond outcome."""
        decision, drafts = outcome.decision, outcome.drafts
        return cls(
            action=decision.action,
            reply=ReplyOut(text=decision.reply) if decision.reply is not None else None,
            triage=TriageResponse.from_domain(outcome.triage),
            reasons=[r.value for r in decision.reasons],
            order=OrderOut.from_domain(decision.order) if decision.order is not None else None,
            suggestions=[SuggestionOut.from_domain(d) for d in drafts.drafts] if drafts else [],
            suggestion_id=drafts.id if drafts else None,
            needs_agent=drafts.needs_agent if drafts else False,
        )


def _respond(
    responder: ResponsePipeline, metrics: ServiceMetrics, body: RespondRequest
) -> RespondResponse:
    outcome = responder.respond(body.to_domain())
    metrics.observe_respond(outcome)
    return RespondResponse.from_domain(outcome)


# `async def` doing its work in one call in the pipeline threads
# (service/pipeline_threads.py): triage encodes text, the order lookup may block, both stay
# off the loop. A plain `def` route costs two threadpool round trips:
# the endpoint, then the validation of its return value (see service/api/triage.py).
@router.post("/respond", response_model=RespondResponse)
async def respond(
    body: RespondRequest,
    responder: ResponderDep,
    metrics: MetricsDep,
    threads: PipelineThreadsDep,
) -> RespondResponse:
    """Decide whether to auto-reply, suggest drafts to an agent, or escalate.

    The decision (and any drafts) is stored before the answer leaves; if the store fails
    the call fails with 503 and can be retried, so no reply goes out unrecorded.
    """
    return await threads.run(_respond, responder, metrics, body)
