"""The job kinds and the one function that runs a job by id, whichever runner calls it.

``execute_job`` is idempotent: a job that succeeded is not run again (a redelivered
Celery message, a resubmission), and a failed one records why and can be resubmitted.
The functions themselves are resumable: the KB reindex skips documents that already have
vectors of the current encoder, a backfill chunk whose part file exists is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.triager import Triager
from service.database import Database
from service.insights.emerging_alerts import (
    WebhookTarget,
    announced_after,
    check_summary,
    new_groups,
    post_alert,
)
from service.insights.emerging_issues import EmergingIssueDetector
from service.insights.insight_sources import InsightSources
from service.insights.insights_service import emerging_report
from service.jobs.backfill import run_chunk
from service.jobs.job_store import Job, JobStore
from service.settings import Settings

logger = logging.getLogger(__name__)

JobKind = Literal["kb_reindex", "backfill_chunk", "emerging_issues"]
ProgressFn = Callable[[int, int | None], None]


class JobEnvironment(Protocol):
    """What job functions use; a worker process builds it lazily, the service hands over
    what it already loaded."""

    def triager(self) -> Triager:
        """The triager (backfill)."""
        ...

    def knowledge_base(self) -> SharedKnowledgeBase:
        """The shared knowledge base (reindex)."""
        ...

    def database(self) -> Database:
        """The service database (insights)."""
        ...

    def settings(self) -> Settings:
        """The settings (the webhook and its secret never travel in job parameters)."""
        ...


def kb_reindex(params: dict[str, Any], env: JobEnvironment, progress: ProgressFn) -> dict[str, Any]:
    """Store vectors of the current encoder for every document that lacks them."""
    count = env.knowledge_base().reindex()
    progress(count, count)
    return {"reembedded": count}


def backfill_chunk(
    params: dict[str, Any], env: JobEnvironment, progress: ProgressFn
) -> dict[str, Any]:
    """Triage one backfill chunk file into its part file."""
    result = run_chunk(Path(params["input"]), Path(params["output"]), triager=env.triager())
    progress(result["rows"], result["rows"])
    return result


def emerging_issues(
    params: dict[str, Any], env: JobEnvironment, progress: ProgressFn
) -> dict[str, Any]:
    """One scheduled emerging-issues check (``service/insights/emerging_alerts.py``):
    detect, compare with what the last check announced, post what is new."""
    settings = env.settings()
    until = datetime.fromisoformat(params["until"])
    since = until - timedelta(hours=int(params["window_hours"]))
    database = env.database()
    report = emerging_report(
        InsightSources(database),
        EmergingIssueDetector(),
        since,
        until,
        baseline_days=settings.insights_baseline_days,
    )
    last = JobStore(database).latest_succeeded("emerging_issues")
    announced = (last.result or {}).get("announced") if last is not None else None
    payload = new_groups(report, announced)
    posted = None
    fresh = payload["spikes"] or payload["themes"]
    if fresh and settings.insights_webhook_url and settings.insights_webhook_secret:
        target = WebhookTarget(
            settings.insights_webhook_url, settings.insights_webhook_secret.get_secret_value()
        )
        body = {"since": since.isoformat(), "until": until.isoformat(), **payload}
        posted = post_alert(target, body)
    progress(1, 1)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "announced": announced_after(report, announced),
        **check_summary(payload, posted),
    }


JOB_FUNCTIONS: Mapping[str, Callable[[dict[str, Any], JobEnvironment, ProgressFn], dict[str, Any]]]
JOB_FUNCTIONS = {
    "kb_reindex": kb_reindex,
    "backfill_chunk": backfill_chunk,
    "emerging_issues": emerging_issues,
}


def execute_job(job_id: str, *, store: JobStore, env: JobEnvironment) -> Job:
    """Run the job ``job_id`` unless it succeeded already; record the outcome."""
    job = store.start(job_id)
    if job is None:
        return store.get(job_id)
    function = JOB_FUNCTIONS.get(job.kind)
    if function is None:
        store.fail(job_id, f"unknown job kind {job.kind!r}")
        return store.get(job_id)
    try:
        result = function(job.params, env, lambda done, total: store.progress(job_id, done, total))
    except Exception as exc:
        logger.warning("job %s (%s) failed: %s", job_id, job.kind, type(exc).__name__)
        store.fail(job_id, f"{type(exc).__name__}: {exc}")
        return store.get(job_id)
    store.succeed(job_id, result)
    return store.get(job_id)
