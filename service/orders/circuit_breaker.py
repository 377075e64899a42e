"""A circuit breaker: stop calling a failing dependency for a while, then try once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum

from service.orders.order_connector import CircuitOpenError

logger = logging.getLogger(__name__)


class BreakerState(StrEnum):
    """``closed``: calls pass. ``open``: calls fail fast. ``half_open``: one trial call."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_after_s``
    lets a single trial call through, which closes it on success or reopens it.

    Without it, every message during an outage of the order API would wait out the
    full timeout and retries, stalling the helpdesk; open, it answers at once and the
    message escalates to a human.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "circuit",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_after_s <= 0:
            raise ValueError("reset_after_s must be positive")
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """Current state (an open breaker whose rest is over reports ``half_open``)."""
        with self._lock:
            if self._state is BreakerState.OPEN and self._rested():
                return BreakerState.HALF_OPEN
            return self._state

    def _rested(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_after_s

    def before_call(self) -> None:
        """Call before each attempt.

        Raises:
            CircuitOpenError: the breaker is open, or a trial call is already running.
        """
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return
            if self._state is BreakerState.OPEN:
                if not self._rested():
                    remaining = self.reset_after_s - (self._clock() - self._opened_at)
                    raise CircuitOpenError(
                        f"{self.name}: circuit open after repeated failures; "
                        f"next try in {remaining:.1f}s"
                    )
                self._state = BreakerState.HALF_OPEN
                self._trial_in_flight = False
            if self._trial_in_flight:
                raise CircuitOpenError(f"{self.name}: circuit half-open, a trial call is running")
            self._trial_in_flight = True

    def record_success(self) -> None:
        """The call worked: close the circuit and forget earlier failures."""
        with self._lock:
            if self._state is not BreakerState.CLOSED:
                logger.info("%s: circuit closed again", self.name)
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    def record_failure(self) -> None:
        """The call failed: count it, and open the circuit at the threshold."""
        with self._lock:
            self._trial_in_flight = False
            if self._state is BreakerState.HALF_OPEN:
                self._open()
                return
            self._failures += 1
            if self._failures >= self.failure_threshold and self._state is BreakerState.CLOSED:
                self._open()

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        logger.warning(
            "%s: circuit open after %d failures; pausing calls for %.1fs",
            self.name,
            self._failures,
            self.reset_after_s,
        )
