"""Picks the job runner: Celery when ``TRIAGE_BROKER_URL`` is set, else in-process.

The Celery module is imported only when a broker is configured, so the embedded setup
never loads Celery.
"""

from __future__ import annotations

import importlib

from service.jobs.job_functions import JobEnvironment
from service.jobs.job_runner import InProcessJobRunner, JobRunner
from service.jobs.job_store import JobStore
from service.settings import Settings

CELERY_FACTORY = "service.jobs.celery_job_runner:build_celery_runner"


def build_job_runner(settings: Settings, *, store: JobStore, env: JobEnvironment) -> JobRunner:
    """The runner the settings ask for."""
    if settings.broker_url is None:
        return InProcessJobRunner(store, env)
    module_name, _, attribute = CELERY_FACTORY.partition(":")
    runner: JobRunner = getattr(importlib.import_module(module_name), attribute)(settings, store)
    return runner
