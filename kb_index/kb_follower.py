"""A thread that keeps one worker's index at the database's version."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kb_index.kb_change_waiter import ChangeWaiter

logger = logging.getLogger(__name__)

#: Longest wait between two version checks; with ``LISTEN`` a change usually arrives at
#: once, and either way a search on any worker sees a write well within 2 s.
POLL_INTERVAL_S = 0.5


class KbFollower:
    """Calls ``sync`` after every announced change and at least every ``interval`` s.

    Args:
        sync: brings the local index to the database's version (idempotent).
        waiter: how changes are announced.
        interval: the polling fallback.
    """

    def __init__(
        self,
        sync: Callable[[], object],
        *,
        waiter: ChangeWaiter,
        interval: float = POLL_INTERVAL_S,
    ) -> None:
        self._sync = sync
        self._waiter = waiter
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-follower", daemon=True)

    @property
    def mode(self) -> str:
        """``listen`` or ``poll``, for ``/readyz``-style reporting."""
        return self._waiter.name

    def start(self) -> KbFollower:
        """Start following."""
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._waiter.wait(self._interval)
                if self._stop.is_set():
                    break
                try:
                    self._sync()
                except Exception:
                    # A database blip must not end following; the next round retries.
                    logger.warning("kb follower could not sync; retrying", exc_info=True)
        finally:
            self._waiter.close()

    def stop(self) -> None:
        """Stop and wait for the thread (at most about one interval)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
