"""POST /v1/feedback, GET /v1/feedback/export (JSONL) and GET /v1/stats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from models.urgency_classifier import UrgencyLevel
from service.deps import (
    DashboardDep,
    FeedbackStoreDep,
    MetricsDep,
    SinceDep,
    TimeWindowDep,
    requires,
)
from service.errors import error_responses
from service.feedback.feedback_records import Outcome
from service.feedback.feedback_store import FeedbackInput
from service.messages.dashboard import DashboardFigures
from service.schemas import MAX_TEXT_CHARS, DomainOut, WireModel

router = APIRouter(tags=["feedback"])


class FeedbackRequest(WireModel):
    """What the agent did with a suggestion (or one draft of it)."""

    suggestion_id: Annotated[str, Field(min_length=1, max_length=40)]
    outcome: Outcome
    final_text: Annotated[str | None, Field(default=None, max_length=MAX_TEXT_CHARS)] = None
    correct_intent: Annotated[str | None, Field(default=None, max_length=64)] = None
    correct_urgency: UrgencyLevel | None = None
    agent_id: Annotated[str | None, Field(default=None, max_length=128)] = None

    def to_domain(self) -> FeedbackInput:
        """The feedback as the store takes it."""
        return FeedbackInput(
            suggestion_id=self.suggestion_id,
            outcome=self.outcome,
            final_text=self.final_text,
            correct_intent=self.correct_intent,
            correct_urgency=self.correct_urgency,
            agent_id=self.agent_id,
        )


class FeedbackResponse(DomainOut):
    """The stored feedback (the same body when an identical request is repeated)."""

    feedback_id: int
    suggestion_id: str
    draft_id: str | None
    outcome: Outcome
    edit_distance: float | None
    recorded_at: datetime


class VolumeBucketOut(DomainOut):
    """Messages logged in ``[start, start + bucket)``, by intent and by urgency."""

    start: datetime
    messages: int
    intents: dict[str, int]
    urgency: dict[str, int]


class CitedArticleOut(DomainOut):
    """A knowledge-base article and how many messages got a draft citing it."""

    doc_id: str
    title: str
    count: int


class StatsResponse(BaseModel):
    """Counts and rates over a time window; a rate is ``null`` when nothing was counted.

    ``decisions``, ``actions``, ``intents`` and ``urgency`` count ``/v1/respond`` decisions;
    ``messages`` and ``volumes`` count every logged message (triage and respond).
    """

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
    messages: int
    bucket: Literal["hour", "day"]
    volumes: list[VolumeBucketOut]
    top_cited: list[CitedArticleOut]

    @classmethod
    def from_domain(
        cls, dashboard: DashboardFigures, *, since: datetime | None, until: datetime | None
    ) -> StatsResponse:
        """The wire form of the statistics of ``[since, until)``."""
        figures = dashboard.stats
        return cls(
            since=since,
            until=until,
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
            messages=dashboard.messages,
            bucket=dashboard.bucket,
            volumes=[VolumeBucketOut.model_validate(b) for b in dashboard.volumes],
            top_cited=[CitedArticleOut.model_validate(a) for a in dashboard.top_cited],
        )


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": FeedbackResponse, "description": "The same feedback was already recorded."},
        **error_responses(404, 409),
    },
    dependencies=[requires("feedback")],
)
def post_feedback(
    body: FeedbackRequest, response: Response, store: FeedbackStoreDep, metrics: MetricsDep
) -> FeedbackResponse:
    """Record an agent's verdict; repeating the same id and outcome is harmless."""
    result = store.add_feedback(body.to_domain())
    metrics.observe_feedback(result)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return FeedbackResponse.model_validate(result)


@router.get(
    "/feedback/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
    dependencies=[requires("feedback")],
)
def export_feedback(store: FeedbackStoreDep, since: SinceDep) -> StreamingResponse:
    """Feedback with its message and drafts as JSON lines, oldest first (``triage retrain
    --feedback`` reads this). The last line, ``{"export_complete": true, "rows": N}``,
    marks a complete export: a stream cut short by a failing database lacks it."""
    records = store.open_export(since=since)

    def lines() -> Iterator[bytes]:
        for record in records:
            yield (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="feedback.jsonl"'},
    )


@router.get("/stats", response_model=StatsResponse, dependencies=[requires("stats")])
def stats(
    dashboard: DashboardDep,
    window: TimeWindowDep,
    bucket: Annotated[
        Literal["hour", "day"], Query(description="Width of the `volumes` time buckets.")
    ] = "day",
) -> StatsResponse:
    """Decisions, drafts, agent feedback, message volumes and cited articles in
    ``[since, until)``."""
    figures = dashboard.figures(since=window.since, until=window.until, bucket=bucket)
    return StatsResponse.from_domain(figures, since=window.since, until=window.until)
