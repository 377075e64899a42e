"""Sending jobs to Celery workers (``triage worker``) through the broker.

The message carries only the job id; the worker reads kind and parameters from the jobs
table, so a redelivered message (``acks_late``: a worker died mid-job) runs the job again
from its recorded state, and a finished job is not redone.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from service.jobs.job_functions import JobKind
from service.jobs.job_store import Job, JobStore
from service.settings import Settings

#: The one Celery task: run a job of the jobs table by id.
RUN_JOB_TASK = "triage.run_job"


def celery_app(broker_url: str) -> Celery:
    """A Celery app on ``broker_url`` with the delivery settings jobs rely on."""
    app = Celery("triage", broker=broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


class CeleryJobRunner:
    """Records jobs and sends their ids to the queue ``queue``."""

    name = "celery"

    def __init__(self, store: JobStore, *, broker_url: str, queue: str) -> None:
        self.store = store
        self.queue = queue
        self._app = celery_app(broker_url)

    def submit(self, kind: JobKind, params: dict[str, Any], *, key: str | None = None) -> Job:
        """Record the job and send it to a worker unless it is under way or done."""
        job, start = self.store.submit(kind, params, key=key)
        if start:
            self._app.send_task(RUN_JOB_TASK, args=[job.id], queue=self.queue)
        return job

    def close(self) -> None:
        """Close broker connections."""
        self._app.close()


def build_celery_runner(settings: Settings, store: JobStore) -> CeleryJobRunner:
    """The Celery runner of ``settings.broker_url``."""
    assert settings.broker_url is not None
    return CeleryJobRunner(store, broker_url=settings.broker_url, queue=settings.jobs_queue)
