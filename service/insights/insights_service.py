"""The insights as the API and the CLI ask for them: a period in, a report out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.protocols import Encoder
from service.insights.emerging_issues import EmergingIssueDetector, EmergingReport
from service.insights.insight_sources import InsightSources
from service.insights.kb_gaps import KbGap, KbGapFinder

#: Most messages read for one report (the newest are kept).
MAX_MESSAGES = 50_000


def emerging_report(
    sources: InsightSources,
    detector: EmergingIssueDetector,
    since: datetime,
    until: datetime,
    *,
    baseline_days: int = 7,
) -> EmergingReport:
    """Intent spikes and new themes in ``[since, until)`` against the ``baseline_days``
    before ``since`` (the API, the CLI and the scheduled check all call this)."""
    baseline_since = since - timedelta(days=baseline_days)
    window = sources.observed(since, until, limit=MAX_MESSAGES)
    baseline = sources.observed(baseline_since, since, limit=MAX_MESSAGES)
    return detector.detect(
        window, baseline, since=since, until=until, baseline_since=baseline_since
    )


@dataclass(frozen=True)
class KbGapReport:
    """Gap groups of one period."""

    since: datetime
    until: datetime
    signals: int
    gaps: tuple[KbGap, ...]


class InsightsService:
    """Emerging issues and knowledge-base gaps over the service database.

    Args:
        sources: the database reads.
        encoder: embeds suggestion messages and agent replies for the gap report.
        baseline_days: how far back the emerging-issues baseline reaches.
        min_edit: edit distance from which an edited draft counts as a gap.
    """

    def __init__(
        self,
        sources: InsightSources,
        *,
        encoder: Encoder,
        baseline_days: int = 7,
        min_edit: float = 0.5,
        detector: EmergingIssueDetector | None = None,
    ) -> None:
        self.sources = sources
        self.encoder = encoder
        self.baseline_days = baseline_days
        self.min_edit = min_edit
        self.detector = detector or EmergingIssueDetector()

    def emerging(self, since: datetime, until: datetime) -> EmergingReport:
        """Intent spikes and new themes in ``[since, until)`` against the days before."""
        return emerging_report(
            self.sources, self.detector, since, until, baseline_days=self.baseline_days
        )

    def kb_gaps(self, since: datetime, until: datetime) -> KbGapReport:
        """Groups of questions the knowledge base did not answer in ``[since, until)``."""
        signals, background = self.sources.gap_signals(
            since, until, min_edit=self.min_edit, limit=MAX_MESSAGES
        )
        gaps = KbGapFinder(self.encoder).find(signals, background=background)
        return KbGapReport(since=since, until=until, signals=len(signals), gaps=tuple(gaps))
