"""POST /v1/feedback, GET /v1/feedback/export (JSONL) and GET /v1/stats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from models.urgency_classifier import UrgencyLevel
from service.api.suggest import FeedbackStoreDep, unavailable
from service.deps import ResourcesDep
from service.feedback.feedback_store import FeedbackInput, StoreUnavailableError
from service.schemas import MAX_TEXT_CHARS, WireModel

router = APIRouter(tags=["feedback"])

Outcome = Literal["accepted", "edited", "rejected"]


class FeedbackRequest(WireModel):
    """What the agent did with a suggestion (or one draft of it)."""

    suggestion_id: Annotated[str, Field(min_length=1, max_length=40)]
    outcome: Outcome
    final_text: Annotated[str | None, Field(default=None, max_length=MAX_TEXT_CHARS)] = None
    correct_intent: Annotated[str | None, Field(default=None, max_length=64)] = None
    correct_urgency: UrgencyLevel | None = None
    agent_id: Annotated[str | None, Field(default=None, max_length=128)] = None


class FeedbackResponse(BaseModel):
    """The stored feedback (the same body when an identical request is repeated)."""

    feedback_id: int
    suggestion_id: str
    draft_id: str | None
    outcome: Outcome
    edit_distance: float | None
    recorded_at: datetime


class StatsResponse(BaseModel):
    """Counts and rates over a time window; a rate is ``null`` when nothing was counted."""

    since: datetime | None
    until: datetime | None
    decisions: int
    actions: dict[str, int]
    intents: dict[str, int]
    urgency: dict[str, int]
    auto_reply_rate: float | None
    suggestions: int
    needs_agent: int
    rated_suggestions: int
    outcomes: dict[str, int]
    acceptance_rate: float | None
    edit_rate: float | None
    rejection_rate: float | None
    mean_edit_distance: float | None


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _check(body: FeedbackRequest, intent_labels: tuple[str, ...]) -> None:
    """Rules that span fields or need the loaded model; 422 naming the field."""
    if body.outcome == "edited" and not (body.final_text and body.final_text.strip()):
        raise _invalid("final_text", "an 'edited' outcome needs the text that was sent")
    if body.correct_intent is not None and body.correct_intent not in intent_labels:
        raise _invalid(
            "correct_intent",
            f"{body.correct_intent!r} is not an intent label of the model "
            f"(known: {', '.join(intent_labels)})",
        )


def _parse_time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"{value!r} is not an ISO-8601 date or time "
                    "(e.g. 2026-11-22 or 2026-11-22T08:00:00Z)",
                    "type": "value_error",
                }
            ]
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


SinceQuery = Annotated[
    str | None,
    Query(max_length=64, description="ISO-8601 date or time (UTC when no offset is given)."),
]


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The same feedback was already recorded."}},
)
def post_feedback(
    body: FeedbackRequest, response: Response, resources: ResourcesDep, store: FeedbackStoreDep
) -> FeedbackResponse:
    """Record an agent's verdict; repeating the same id and outcome is harmless."""
    _check(body, tuple(resources.intent.labels))
    try:
        result = store.add_feedback(
            FeedbackInput(
                suggestion_id=body.suggestion_id,
                outcome=body.outcome,
                final_text=body.final_text,
                correct_intent=body.correct_intent,
                correct_urgency=body.correct_urgency,
                agent_id=body.agent_id,
            )
        )
    except StoreUnavailableError as exc:
        raise unavailable(exc) from exc
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return FeedbackResponse(
        feedback_id=result.feedback_id,
        suggestion_id=result.suggestion_id,
        draft_id=result.draft_id,
        outcome=result.outcome,
        edit_distance=result.edit_distance,
        recorded_at=result.recorded_at,
    )


@router.get(
    "/feedback/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_feedback(store: FeedbackStoreDep, since: SinceQuery = None) -> StreamingResponse:
    """Feedback with its message and drafts as JSON lines, oldest first (``triage retrain
    --feedback`` reads this)."""
    start = _parse_time("since", since)

    def lines() -> Iterator[bytes]:
        for record in store.export(since=start):
            yield (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="feedback.jsonl"'},
    )


@router.get("/stats", response_model=StatsResponse)
def stats(
    store: FeedbackStoreDep, since: SinceQuery = None, until: SinceQuery = None
) -> StatsResponse:
    """Decisions, drafts and agent feedback in ``[since, until)``."""
    start, end = _parse_time("since", since), _parse_time("until", until)
    if start is not None and end is not None and end <= start:
        raise RequestValidationError(
            [{"loc": ("query", "until"), "msg": "must be after since", "type": "value_error"}]
        )
    try:
        figures = store.stats(since=start, until=end)
    except StoreUnavailableError as exc:
        raise unavailable(exc) from exc
    return StatsResponse(
        since=start,
        until=end,
        decisions=figures.decisions,
        actions=dict(figures.actions),
        intents=dict(figures.intents),
        urgency=dict(figures.urgency),
        auto_reply_rate=figures.auto_reply_rate,
        suggestions=figures.suggestions,
        needs_agent=figures.needs_agent,
        rated_suggestions=figures.rated,
        outcomes=dict(figures.outcomes),
        acceptance_rate=figures.acceptance_rate,
        edit_rate=figures.edit_rate,
        rejection_rate=figures.rejection_rate,
        mean_edit_distance=figures.mean_edit_distance,
    )
