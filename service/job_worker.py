"""The Celery worker side of jobs: the task that runs a job by id, and what it loads.

``triage worker`` starts a Celery worker on ``build_worker_app``. Each worker process
loads the triager or the knowledge base on the first job that needs it (after the
fork, so no process shares a database connection or a thread pool with another) and
keeps it for the jobs that follow.
"""

from __future__ import annotations

import logging
import threading

from celery import Celery

from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.intent_classifier import IntentClassifier
from models.thread_budget import apply_thread_budget
from models.triager import Triager
from service.database import Database
from service.jobs.celery_job_runner import RUN_JOB_TASK, celery_app
from service.jobs.job_environment import LazyJobEnvironment
from service.jobs.job_functions import execute_job
from service.jobs.job_store import JobStore
from service.kb_rebuild import open_shared_knowledge_base
from service.resources import build_encoder, build_triager, thread_budget
from service.settings import Settings

logger = logging.getLogger(__name__)


def load_triager(settings: Settings) -> Triager:
    """The configured triager (intent, urgency, language, routing) on the configured
    encoder, without the service's micro-batching (a worker triages in batches itself)."""
    encoder = build_encoder(settings)
    intent = IntentClassifier.from_artifact(settings.intent_model_dir, encoder=encoder)
    triager, _ = build_triager(settings, intent=intent, encoder=encoder)
    # As the service does: size every numeric pool on purpose, after all are loaded.
    apply_thread_budget(thread_budget(settings))
    return triager


class WorkerContext:
    """One worker process's database, job store and lazily loaded job environment."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = Database(settings.resolved_database_url)
        self.database.migrate()
        self.store = JobStore(self.database)
        self.env = LazyJobEnvironment(
            build_triager=lambda: load_triager(settings),
            build_kb=self._open_kb,
            database=self.database,
            settings=settings,
        )

    def _open_kb(self) -> SharedKnowledgeBase:
        return open_shared_knowledge_base(
            self.settings,
            database=self.database,
            encoder=build_encoder(self.settings),
            follow=False,
        )


def build_worker_app(settings: Settings) -> Celery:
    """The Celery app ``triage worker`` runs, with the job task registered."""
    if settings.broker_url is None:
        raise ValueError("TRIAGE_BROKER_URL is not set")
    app = celery_app(settings.broker_url)
    contexts: dict[int, WorkerContext] = {}
    lock = threading.Lock()

    def context() -> WorkerContext:
        with lock:
            if not contexts:
                contexts[0] = WorkerContext(settings)
            return contexts[0]

    @app.task(name=RUN_JOB_TASK)
    def run_job(job_id: str) -> str:
        ctx = context()
        job = execute_job(job_id, store=ctx.store, env=ctx.env)
        logger.info("job %s (%s): %s", job.id, job.kind, job.status)
        return job.status

    return app
