"""Thread budget: every numeric pool sized on purpose."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from models.thread_budget import ThreadBudget, apply_thread_budget, usable_cores


def test_budget_limits_blas_and_defaults_compute_to_the_cores() -> None:
    import numpy  # noqa: F401  (its BLAS must be loaded for threadpoolctl to reach it)

    budget = ThreadBudget.for_machine(blas=1)
    assert budget.compute == usable_cores() >= 1
    applied = apply_thread_budget(budget)
    assert applied["blas"] == 1
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)


def test_budget_refuses_zero_threads() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ThreadBudget(compute=0)
