"""How many threads each numeric library may use, set once, on purpose.

On a small machine every library (ONNX Runtime or torch, numpy's and scipy's BLAS, FAISS's
OpenMP) starts a pool sized to all cores, and the pools fight: on two cores one message
through the triage pipeline took 41 ms with the defaults and 17 ms with BLAS limited to one
thread. The budget gives the cores to the one pool that does the heavy work (the encoder,
fed by one batching worker) and one thread to everything else, whose matrices (a few
hundred by 384) are too small to gain from more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass

logger = logging.getLogger(__name__)


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. a container's cpuset)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


@dataclass(frozen=True)
class ThreadBudget:
    """Thread counts per pool.

    Args:
        compute: the encoder's intra-op threads (ONNX Runtime or torch).
        blas: numpy/scipy BLAS threads (threadpoolctl), also any other OpenMP pool.
        faiss: FAISS's OpenMP threads.
    """

    compute: int
    blas: int = 1
    faiss: int = 1

    def __post_init__(self) -> None:
        if min(self.compute, self.blas, self.faiss) < 1:
            raise ValueError("every thread count must be at least 1")

    @classmethod
    def for_machine(
        cls, *, compute: int | None = None, blas: int = 1, faiss: int = 1
    ) -> ThreadBudget:
        """``compute`` defaults to the usable cores."""
        return cls(compute=compute or usable_cores(), blas=blas, faiss=faiss)


def apply_thread_budget(budget: ThreadBudget) -> dict[str, int]:
    """Limit every pool loaded so far; returns what was set (for logs and ``/readyz``).

    threadpoolctl only reaches libraries already loaded, so this runs after the models
    are (the service calls it at the end of loading).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=budget.blas, user_api="blas")
    threadpool_limits(limits=budget.blas, user_api="openmp")
    applied = {"compute": budget.compute, "blas": budget.blas}
    if "faiss" in sys.modules:
        import faiss

        faiss.omp_set_num_threads(budget.faiss)
        applied["faiss"] = budget.faiss
    if "torch" in sys.modules:
        import torch

        # After the OpenMP limit above, which also reaches torch's own libgomp.
        torch.set_num_threads(budget.compute)
        # Only settable before torch's first parallel work.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)
        applied["torch"] = budget.compute
    logger.info("thread budget applied: %s", applied)
    return applied
