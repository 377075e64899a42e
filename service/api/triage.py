"""POST /v1/triage and /v1/triage/batch."""

from __future__ import annotations

from fastapi import APIRouter

from models.triager import ConversationTurn, TriageInput, TriageResult
from service.deps import TriagerDep
from service.schemas import (
    AlternativeOut,
    EntityOut,
    IntentOut,
    LanguageOut,
    RoutingOut,
    SentimentOut,
    TriageBatchRequest,
    TriageBatchResponse,
    TriageRequest,
    TriageResponse,
    UrgencyOut,
)

router = APIRouter(tags=["triage"])


def to_input(request: TriageRequest) -> TriageInput:
    """Wire request to domain input."""
    return TriageInput(
        text=request.text,
        subject=request.subject,
        channel=request.channel,
        history=tuple(ConversationTurn(t.role, t.text, t.at) for t in request.history),
    )


def to_response(result: TriageResult) -> TriageResponse:
    """Domain result to wire response."""
    intent = result.intent
    return TriageResponse(
        intent=IntentOut(
            label=intent.label,
            confidence=intent.confidence,
            category=intent.category,
            alternatives=[
                AlternativeOut(label=a.label, confidence=a.confidence) for a in intent.alternatives
            ],
            out_of_scope=intent.out_of_scope,
            ambiguous=intent.ambiguous,
        ),
        intent_trusted=result.intent_trusted,
        untrusted_reason=result.untrusted_reason,
        urgency=(
            UrgencyOut(
                level=result.urgency.level,
                score=result.urgency.score,
                reasons=list(result.urgency.reasons),
            )
            if result.urgency is not None
            else None
        ),
        sentiment=(
            SentimentOut(label=result.sentiment.label, score=result.sentiment.score)
            if result.sentiment is not None
            else None
        ),
        entities=[
            EntityOut(
                type=e.type,
                value=e.value,
                start=e.start,
                end=e.end,
                source="subject" if e.source == "subject" else "text",
            )
            for e in result.entities or ()
        ],
        language=(
            LanguageOut(code=result.language.code, supported=result.language.supported)
            if result.language is not None
            else None
        ),
        routing=(
            RoutingOut(queue=result.routing.queue, priority=result.routing.priority)
            if result.routing is not None
            else None
        ),
        focus_text=result.focus_text or None,
        model_version=result.model_version,
    )


# Plain `def` routes: FastAPI runs them in its threadpool, keeping encoding off the loop.
@router.post("/triage", response_model=TriageResponse)
def triage(body: TriageRequest, triager: TriagerDep) -> TriageResponse:
    """Classify one message."""
    return to_response(triager.triage(to_input(body)))


@router.post("/triage/batch", response_model=TriageBatchResponse)
def triage_batch(body: TriageBatchRequest, triager: TriagerDep) -> TriageBatchResponse:
    """Classify up to 256 messages in one call; results keep the input order."""
    results = triager.triage_many([to_input(item) for item in body.items])
    return TriageBatchResponse(results=[to_response(r) for r in results])
