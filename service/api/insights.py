"""GET /v1/insights/emerging and /v1/insights/kb-gaps: what the team lead reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from pydantic import Field, computed_field

from service.deps import InsightsDep, TimeWindowDep
from service.insights.emerging_issues import significance
from service.schemas import DomainOut

router = APIRouter(prefix="/insights", tags=["insights"])

DEFAULT_WINDOW = timedelta(hours=24)


class _Significant(DomainOut):
    """A finding with a p-value, shown also as -log10(p)."""

    p_value: float = Field(description="One-sided Poisson test")

    @computed_field(description="-log10(p_value)")  # type: ignore[prop-decorator]
    @property
    def significance(self) -> float:
        """-log10 of the p-value, capped."""
        return significance(self.p_value)


class SpikeOut(_Significant):
    """An intent far above its own trailing rate."""

    intent: str = Field(description="Intent label, or `out_of_scope`")
    observed: int
    expected: float = Field(description="Count the baseline rate predicts for this window")
    ratio: float


class ThemeOut(_Significant):
    """A group of similar messages well above what the baseline predicts."""

    label: str
    terms: list[str]
    size: int
    expected: float
    growth: float
    first_seen: datetime
    last_seen: datetime
    intents: dict[str, int] = Field(description="Intent (or `out_of_scope`) -> messages")
    examples: list[str] = Field(description="Up to 5 representative messages (redacted)")
    message_ids: list[str]


class EmergingResponse(DomainOut):
    """Spikes and new themes in ``[since, until)`` against the days before ``since``."""

    since: datetime
    until: datetime
    baseline_since: datetime
    messages: int
    baseline_messages: int
    spikes: list[SpikeOut]
    themes: list[ThemeOut]


class DraftArticleOut(DomainOut):
    """A proposed article: `PUT /v1/kb/documents/{id}` with `title` and `text` publishes it."""

    id: str
    title: str
    text: str


class KbGapOut(DomainOut):
    """Questions the knowledge base did not answer, and what agents replied."""

    label: str
    title: str
    size: int
    needs_agent: int
    rejected: int
    edited: int
    examples: list[str]
    facts: list[str] = Field(description="Sentences of the agents' replies, most repeated first")
    article: DraftArticleOut
    suggestion_ids: list[str]


class KbGapsResponse(DomainOut):
    """Gap groups of a period."""

    since: datetime
    until: datetime
    signals: int = Field(
        description="Suggestions that needed an agent, or were rejected or rewritten"
    )
    gaps: list[KbGapOut]


def _period(window: TimeWindowDep) -> tuple[datetime, datetime]:
    until = window.until or datetime.now(UTC)
    return window.since or until - DEFAULT_WINDOW, until


# Plain `def`: clustering and encoding are CPU work, kept off the event loop.
@router.get("/emerging", response_model=EmergingResponse)
def emerging(insights: InsightsDep, window: TimeWindowDep) -> EmergingResponse:
    """Intents far above their trailing rate and new themes, in ``[since, until)``
    (default: the last 24 hours) against the seven days before."""
    since, until = _period(window)
    return EmergingResponse.model_validate(insights.emerging(since, until))


@router.get("/kb-gaps", response_model=KbGapsResponse)
def kb_gaps(insights: InsightsDep, window: TimeWindowDep) -> KbGapsResponse:
    """Groups of questions the knowledge base did not answer in ``[since, until)``
    (default: the last 24 hours), with the agents' replies as draft articles."""
    since, until = _period(window)
    return KbGapsResponse.model_validate(insights.kb_gaps(since, until))
