"""POST /v1/triage and /v1/triage/batch."""

from __future__ import annotations

from fastapi import APIRouter

from models.triage_pipeline import TriageInput, TriageResult
from service.deps import TriagerDep
from service.schemas import (
    AlternativeOut,
    IntentOut,
    TriageBatchRequest,
    TriageBatchResponse,
    TriageRequest,
    TriageResponse,
)

router = APIRouter(tags=["triage"])


def to_input(request: TriageRequest) -> TriageInput:
    """Wire request to domain input."""
    return TriageInput(text=request.text, subject=request.subject, channel=request.channel)


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
