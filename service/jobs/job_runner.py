"""Where jobs run: the ``JobRunner`` protocol and the in-process runner.

``TRIAGE_BROKER_URL`` unset: a thread of the service runs them (``make run`` needs
nothing else). Set: Celery workers (``service/jobs/celery_job_runner.py``,
``triage worker``). ``service/jobs/job_runner_factory.py`` picks one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from service.jobs.job_functions import JobEnvironment, JobKind, execute_job
from service.jobs.job_store import Job, JobStore


class JobRunner(Protocol):
    """Submits jobs; their state is in ``store``."""

    name: str
    store: JobStore

    def submit(self, kind: JobKind, params: dict[str, Any], *, key: str | None = None) -> Job:
        """Record the job (idempotent by ``key``) and start it unless it is under way or
        done; returns the job as recorded."""
        ...

    def close(self) -> None:
        """Release threads or connections."""
        ...


class InProcessJobRunner:
    """Runs jobs one at a time in a thread of this process (CPU work stays off the event
    loop and never competes with itself)."""

    name = "in-process"

    def __init__(self, store: JobStore, env: JobEnvironment) -> None:
        self.store = store
        self._env = env
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-job")

    def submit(self, kind: JobKind, params: dict[str, Any], *, key: str | None = None) -> Job:
        """Record and queue the job in this process."""
        job, start = self.store.submit(kind, params, key=key)
        if start:
            self._pool.submit(execute_job, job.id, store=self.store, env=self._env)
        return job

    def close(self) -> None:
        """Finish the running job, drop queued ones (they stay ``queued`` in the table)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
