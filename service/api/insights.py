"""GET /v1/insights/emerging and /v1/insights/kb-gaps: what the team lead reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service.deps import InsightsDep, TimeWindowDep
from service.insights.emerging_issues import (
    EmergingReport,
    EmergingTheme,
    IntentSpike,
    significance,
)
from service.insights.insights_service import KbGapReport
from service.insights.kb_gaps import KbGap

router = APIRouter(prefix="/insights", tags=["insights"])

DEFAULT_WINDOW = timedelta(hours=24)


class SpikeOut(BaseModel):
    """An intent far above its own trailing rate."""

    intent: str = Field(description="Intent label, or `out_of_scope`")
    observed: int
    expected: float = Field(description="Count the baseline rate predicts for this window")
    ratio: float
    p_value: float = Field(description="One-sided Poisson test")
    significance: float = Field(description="-log10(p_value)")

    @classmethod
    def from_domain(cls, spike: IntentSpike) -> SpikeOut:
        """The wire form of a spike."""
        return cls(
            intent=spike.intent,
            observed=spike.observed,
            expected=spike.expected,
            ratio=round(spike.ratio, 1),
            p_value=spike.p_value,
            significance=significance(spike.p_value),
        )


class ThemeOut(BaseModel):
    """A group of similar messages well above what the baseline predicts."""

    label: str
    terms: list[str]
    size: int
    expected: float
    growth: float
    p_value: float
    significance: float
    first_seen: datetime
    last_seen: datetime
    intents: dict[str, int] = Field(description="Intent (or `out_of_scope`) -> messages")
    examples: list[str] = Field(description="Up to 5 representative messages (redacted)")
    message_ids: list[str]

    @classmethod
    def from_domain(cls, theme: EmergingTheme) -> ThemeOut:
        """The wire form of a theme."""
        return cls(
            label=theme.label,
            terms=list(theme.terms),
            size=theme.size,
            expected=theme.expected,
            growth=theme.growth,
            p_value=theme.p_value,
            significance=significance(theme.p_value),
            first_seen=theme.first_seen,
            last_seen=theme.last_seen,
            intents=theme.intents,
            examples=list(theme.examples),
            message_ids=list(theme.message_ids),
        )


class EmergingResponse(BaseModel):
    """Spikes and new themes in ``[since, until)`` against the days before ``since``."""

    since: datetime
    until: datetime
    baseline_since: datetime
    messages: int
    baseline_messages: int
    spikes: list[SpikeOut]
    themes: list[ThemeOut]

    @classmethod
    def from_domain(cls, report: EmergingReport) -> EmergingResponse:
        """The wire form of a report."""
        return cls(
            since=report.since,
            until=report.until,
            baseline_since=report.baseline_since,
            messages=report.messages,
            baseline_messages=report.baseline_messages,
            spikes=[SpikeOut.from_domain(s) for s in report.spikes],
            themes=[ThemeOut.from_domain(t) for t in report.themes],
        )


class DraftArticleOut(BaseModel):
    """A proposed article: `PUT /v1/kb/documents/{id}` with `title` and `text` publishes it."""

    id: str
    title: str
    text: str


class KbGapOut(BaseModel):
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

    @classmethod
    def from_domain(cls, gap: KbGap) -> KbGapOut:
        """The wire form of a gap."""
        return cls(
            label=gap.label,
            title=gap.title,
            size=gap.size,
            needs_agent=gap.needs_agent,
            rejected=gap.rejected,
            edited=gap.edited,
            examples=list(gap.examples),
            facts=list(gap.facts),
            article=DraftArticleOut(
                id=gap.article.id, title=gap.article.title, text=gap.article.text
            ),
            suggestion_ids=list(gap.suggestion_ids),
        )


class KbGapsResponse(BaseModel):
    """Gap groups of a period."""

    since: datetime
    until: datetime
    signals: int = Field(
        description="Suggestions that needed an agent, or were rejected or rewritten"
    )
    gaps: list[KbGapOut]

    @classmethod
    def from_domain(cls, report: KbGapReport) -> KbGapsResponse:
        """The wire form of a gap report."""
        return cls(
            since=report.since,
            until=report.until,
            signals=report.signals,
            gaps=[KbGapOut.from_domain(g) for g in report.gaps],
        )


def _period(window: TimeWindowDep) -> tuple[datetime, datetime]:
    until = window.until or datetime.now(UTC)
    return window.since or until - DEFAULT_WINDOW, until


# Plain `def`: clustering and encoding are CPU work, kept off the event loop.
@router.get("/emerging", response_model=EmergingResponse)
def emerging(insights: InsightsDep, window: TimeWindowDep) -> EmergingResponse:
    """Intents far above their trailing rate and new themes, in ``[since, until)``
    (default: the last 24 hours) against the seven days before."""
    since, until = _period(window)
    return EmergingResponse.from_domain(insights.emerging(since, until))


@router.get("/kb-gaps", response_model=KbGapsResponse)
def kb_gaps(insights: InsightsDep, window: TimeWindowDep) -> KbGapsResponse:
    """Groups of questions the knowledge base did not answer in ``[since, until)``
    (default: the last 24 hours), with the agents' replies as draft articles."""
    since, until = _period(window)
    return KbGapsResponse.from_domain(insights.kb_gaps(since, until))
