"""Submits the emerging-issues check once per interval slot while the service runs.

Every worker and replica runs one of these; the job's key is the slot's start, so the
job table admits one check per slot however many submit it. The thread only submits:
the check itself runs on the job engine (a thread of the service, or a Celery worker).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from models.errors import UnavailableError
from service.insights.emerging_alerts import slot_of
from service.jobs.job_runner import JobRunner

logger = logging.getLogger(__name__)


class EmergingSchedule:
    """A daemon thread submitting ``emerging_issues`` jobs.

    Args:
        jobs: the job runner.
        interval: slot length.
        window_hours: period each check looks at (ending at the slot's start).
        clock: the current time (tests move it).
        poll_s: how often the thread looks at the clock.
    """

    def __init__(
        self,
        jobs: JobRunner,
        *,
        interval: timedelta,
        window_hours: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_s: float = 30.0,
    ) -> None:
        self.jobs = jobs
        self.interval = interval
        self.window_hours = window_hours
        self.clock = clock
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="triage-emerging-schedule", daemon=True
        )

    def start(self) -> EmergingSchedule:
        """Start submitting."""
        self._thread.start()
        return self

    def submit_due(self) -> str | None:
        """Submit the check of the current slot (a no-op when it exists); its job id."""
        slot = slot_of(self.clock(), self.interval)
        params = {"until": slot.isoformat(), "window_hours": self.window_hours}
        try:
            return self.jobs.submit("emerging_issues", params, key=slot.isoformat()).id
        except UnavailableError:
            logger.warning("emerging-issues check for %s not submitted: database down", slot)
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.submit_due()
            self._stop.wait(self.poll_s)

    def close(self) -> None:
        """Stop the thread (a submitted check still runs on the job engine)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
