"""Readiness: is every dependency of the service answering now?

``/readyz`` used to report ready while the database was gone. The probe pings the
database in a thread of its own (two at most, so a stalled database cannot make probes
pile up, and a threadpool full of stalled requests cannot delay the probe) and gives up
after a short timeout, naming the dependency that is down.
"""

from __future__ import annotations

import anyio

from models.errors import UnavailableError
from service.database import Database, DatabaseUnavailableError


class DependencyDownError(UnavailableError):
    """A dependency the service needs does not answer (``/readyz`` answers 503)."""

    code = "not_ready"

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"not ready: the {dependency} {reason}")
        self.dependency = dependency


class ReadinessProbe:
    """Checks the database within ``timeout_s`` seconds, off the event loop."""

    def __init__(self, database: Database, *, timeout_s: float) -> None:
        self.database = database
        self.timeout_s = timeout_s
        self._limiter = anyio.CapacityLimiter(2)

    async def check(self) -> None:
        """Return when every dependency answers.

        Raises:
            DependencyDownError: naming the dependency that failed or did not answer.
        """
        with anyio.move_on_after(self.timeout_s) as scope:
            try:
                await anyio.to_thread.run_sync(
                    self.database.ping, limiter=self._limiter, abandon_on_cancel=True
                )
            except DatabaseUnavailableError as exc:
                raise DependencyDownError("database", f"is unreachable: {exc}") from exc
        if scope.cancelled_caught:
            raise DependencyDownError("database", f"did not answer within {self.timeout_s:g} s")
