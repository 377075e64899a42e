"""POST /v1/suggest: grounded reply drafts for a message, without the auto-reply decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from models.triager import TriageResult
from service.api.respond import CitationOut, RespondRequest, SuggestionOut, to_input
from service.api.triage import to_response as triage_response
from service.deps import ResourcesDep
from service.drafting.draft import DraftSet
from service.drafting.draft_request import draft_request_from
from service.drafting.suggestion_service import SuggestionService
from service.feedback.feedback_store import (
    DecisionEntry,
    FeedbackStore,
    StoreUnavailableError,
    SuggestionContext,
)
from service.respond.response_pipeline import RespondOutcome, ResponsePipeline
from service.schemas import TriageResponse

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


def drafts_out(drafts: DraftSet) -> list[SuggestionOut]:
    """Domain drafts to the wire form ``/v1/respond`` also uses."""
    return [
        SuggestionOut(
            id=d.id,
            text=d.text,
            citations=[
                CitationOut(doc_id=c.doc_id, title=c.title, url=c.url, snippet=c.snippet)
                for c in d.citations
            ],
            grounded=d.grounded,
            confidence=max(0.0, min(1.0, d.confidence)),
        )
        for d in drafts.drafts
    ]


def get_drafter(resources: ResourcesDep) -> SuggestionService:
    """The drafting service; 503 when the resources were built without one."""
    if resources.drafter is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "drafting is not loaded")
    return resources.drafter


def get_feedback_store(resources: ResourcesDep) -> FeedbackStore:
    """The feedback store; 503 without a database."""
    if resources.feedback is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "feedback store is not loaded")
    return resources.feedback


DrafterDep = Annotated[SuggestionService, Depends(get_drafter)]
FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]


def suggestion_context(
    body: RespondRequest, triage: TriageResult, *, source: str
) -> SuggestionContext:
    """What is stored with a suggestion about its message."""
    intent = triage.intent
    return SuggestionContext(
        message=body.message.text,
        subject=body.message.subject,
        channel=body.message.channel,
        source=source,
        intent=None if intent.out_of_scope else intent.label,
        urgency=triage.urgency.level if triage.urgency is not None else None,
        model_version=triage.model_version,
    )


def unavailable(exc: StoreUnavailableError) -> HTTPException:
    """503 for a store failure: nothing was recorded, the caller should retry."""
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))


def record_respond(store: FeedbackStore, body: RespondRequest, outcome: RespondOutcome) -> None:
    """Store a respond decision and its drafts in one transaction; 503 if that fails."""
    triage = outcome.triage
    context = suggestion_context(body, triage, source="respond")
    decision = DecisionEntry(
        action=outcome.decision.action.value,
        channel=body.message.channel,
        reasons=tuple(r.value for r in outcome.decision.reasons),
        intent=context.intent,
        urgency=context.urgency,
    )
    try:
        store.record(decision=decision, drafts=outcome.drafts, context=context)
    except StoreUnavailableError as exc:
        raise unavailable(exc) from exc


# Plain `def`: triage and drafting encode text; both stay off the event loop.
@router.post("/suggest", response_model=SuggestResponse)
def suggest(
    body: SuggestRequest, resources: ResourcesDep, drafter: DrafterDep, store: FeedbackStoreDep
) -> SuggestResponse:
    """Draft replies for an agent; the drafts are stored for feedback before they are shown."""
    request = to_input(body)
    triage = resources.triager.triage(ResponsePipeline.triage_input(request))
    drafts = drafter.suggest(draft_request_from(request, triage))
    try:
        store.record(
            decision=None, drafts=drafts, context=suggestion_context(body, triage, source="suggest")
        )
    except StoreUnavailableError as exc:
        raise unavailable(exc) from exc
    return SuggestResponse(
        suggestion_id=drafts.id,
        suggestions=drafts_out(drafts),
        needs_agent=drafts.needs_agent,
        generator=drafts.generator,
        fallback_reason=drafts.fallback_reason,
        triage=triage_response(triage),
    )
