"""The figures behind ``GET /v1/stats``: decisions and agent feedback from the feedback
store, volumes over time and cited articles from the message log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.feedback.feedback_store import FeedbackStore, Stats
from service.messages.message_log import READ_FLUSH_WAIT_S, MessageLog
from service.messages.message_log_store import BucketSize, CitedArticle, VolumeBucket


@dataclass(frozen=True)
class DashboardFigures:
    """Everything the console dashboard draws for one time window."""

    stats: Stats
    bucket: BucketSize
    volumes: list[VolumeBucket]
    top_cited: list[CitedArticle]

    @property
    def messages(self) -> int:
        """Messages logged in the window."""
        return sum(b.messages for b in self.volumes)


class Dashboard:
    """Reads one window's figures from both stores."""

    def __init__(self, feedback: FeedbackStore, log: MessageLog) -> None:
        self.feedback = feedback
        self.log = log

    def figures(
        self, *, since: datetime | None, until: datetime | None, bucket: BucketSize = "day"
    ) -> DashboardFigures:
        """Figures of ``[since, until)``."""
        self.log.writer.flush(READ_FLUSH_WAIT_S)
        return DashboardFigures(
            stats=self.feedback.stats(since=since, until=until),
            bucket=bucket,
            volumes=self.log.store.volumes(since=since, until=until, bucket=bucket),
            top_cited=self.log.store.top_cited(since=since, until=until),
        )
