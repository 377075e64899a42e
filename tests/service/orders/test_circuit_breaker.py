"""The circuit breaker's states, driven by a hand-set clock (no sleeping, no timing)."""

from __future__ import annotations

import pytest

from service.orders.circuit_breaker import BreakerState, CircuitBreaker
from service.orders.order_connector import CircuitOpenError


class SetClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: SetClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, reset_after_s=30.0, clock=clock)


def test_opens_after_threshold_consecutive_failures() -> None:
    clock = SetClock()
    breaker = _breaker(clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError, match="circuit open"):
        breaker.before_call()


def test_a_success_resets_the_failure_count() -> None:
    breaker = _breaker(SetClock())
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_after_the_rest_one_trial_call_goes_through() -> None:
    clock = SetClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 29.9
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpenError, match="trial"):
        breaker.before_call()  # a second caller meanwhile fails fast
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()


def test_failed_trial_reopens_for_another_full_rest() -> None:
    clock = SetClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 30
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 29
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.now += 1
    breaker.before_call()


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="reset_after_s"):
        CircuitBreaker(reset_after_s=0)
