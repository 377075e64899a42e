"""POST /v1/triage and /v1/triage/batch."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import TriagePipelineDep
from service.schemas import (
    TriageBatchRequest,
    TriageBatchResponse,
    TriageRequest,
    TriageResponse,
)

router = APIRouter(tags=["triage"])


# Plain `def` routes: FastAPI runs them in its threadpool, keeping encoding off the loop.
@router.post("/triage", response_model=TriageResponse)
def triage(body: TriageRequest, triager: TriagePipelineDep) -> TriageResponse:
    """Classify one message (logged in the message log)."""
    return TriageResponse.from_domain(triager.triage(body.to_domain()))


@router.post("/triage/batch", response_model=TriageBatchResponse)
def triage_batch(body: TriageBatchRequest, triager: TriagePipelineDep) -> TriageBatchResponse:
    """Classify up to 256 messages in one call; results keep the input order."""
    results = triager.triage_many([item.to_domain() for item in body.items])
    return TriageBatchResponse(results=[TriageResponse.from_domain(r) for r in results])
