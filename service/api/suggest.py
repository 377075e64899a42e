"""POST /v1/suggest: grounded reply drafts for a message, without the auto-reply decision."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from service.deps import MetricsDep, PipelineThreadsDep, ResponderDep
from service.respond.response_pipeline import ResponsePipeline, SuggestOutcome
from service.schemas import RespondRequest, SuggestionOut, TriageResponse
from service.service_metrics import ServiceMetrics

router = APIRouter(tags=["suggest"])


class SuggestRequest(RespondRequest):
    """The message to draft replies for, with its sender and conversation (as for respond)."""


class SuggestResponse(BaseModel):
    """Up to three drafts; ``needs_agent`` when the knowledge base holds no answer."""

    suggestion_id: str
    suggestions: list[SuggestionOut]
    needs_agent: bool
    generator: str
    fallback_reason: str | None
    triage: TriageResponse

    @classmethod
    def from_domain(cls, outcome: SuggestOutcome) -> SuggestResponse:
        """The wire form of a suggestion."""
        drafts = outcome.drafts
        return cls(
            suggestion_id=drafts.id,
            suggestions=[SuggestionOut.from_domain(d) for d in drafts.drafts],
            needs_agent=drafts.needs_agent,
            generator=drafts.generator,
            fallback_reason=drafts.fallback_reason,
            triage=TriageResponse.from_domain(outcome.triage),
        )


def _suggest(
    responder: ResponsePipeline, metrics: ServiceMetrics, body: SuggestRequest
) -> SuggestResponse:
    outcome = responder.suggest(body.to_domain())
    metrics.observe_suggest(outcome)
    return SuggestResponse.from_domain(outcome)


# `async def` doing its work in one call in the pipeline threads
# (service/pipeline_threads.py): triage and drafting encode text off the event loop, and
# the return value is not validated in a second round trip (as triage.py).
@router.post("/suggest", response_model=SuggestResponse)
async def suggest(
    body: SuggestRequest,
    responder: ResponderDep,
    metrics: MetricsDep,
    threads: PipelineThreadsDep,
) -> SuggestResponse:
    """Draft replies for an agent; the drafts are stored for feedback before they are shown."""
    return await threads.run(_suggest, responder, metrics, body)
