"""App factory. Run with ``uvicorn --factory service.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from models.thread_budget import usable_cores
from service.access_control_factory import build_access_control
from service.api import (
    admin,
    feedback,
    health,
    insights,
    jobs,
    kb,
    kb_fusion,
    messages,
    metrics,
    respond,
    suggest,
    summarize,
    triage,
)
from service.auth.exposure import refuse_unprotected_exposure
from service.body_limit import BodySizeLimitMiddleware
from service.deps import authenticate, requires
from service.errors import ERROR_RESPONSES, install_error_handlers
from service.heap_freeze import freeze_loaded_state
from service.jobs.emerging_schedule import EmergingSchedule
from service.pipeline_threads import PipelineThreads
from service.readiness import ReadinessProbe
from service.request_context import RequestContextMiddleware
from service.resources import Resources, load_resources
from service.service_metrics import ServiceMetrics
from service.settings import Settings

logger = logging.getLogger(__name__)

#: The agent console: static files shipped in the package, served at /console.
CONSOLE_DIR = Path(__file__).resolve().parent / "console"

API_VERSION = "v1"


def create_app(settings: Settings | None = None, *, resources: Resources | None = None) -> FastAPI:
    """Build the FastAPI app.

    Args:
        settings: configuration; read from ``TRIAGE_*`` environment variables when omitted.
        resources: already-loaded resources (tests share one set across apps); when
            omitted the lifespan loads them and a failure aborts startup.
    """
    settings = settings or Settings()
    service_metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = resources is None
        loaded = (
            resources
            if resources is not None
            else await run_in_threadpool(load_resources, settings)
        )
        access = build_access_control(settings, database=loaded.database)
        try:
            # The same rule as `triage serve` for TRIAGE_HOST (a bare uvicorn included); a
            # request arriving on a non-loopback address without keys also gets 403 (deps).
            has_keys = await run_in_threadpool(access.authenticator.has_keys)
            refuse_unprotected_exposure(settings.host, has_keys=has_keys)
        except BaseException:
            access.close()
            if owned:
                loaded.close()
            raise
        app.state.resources = loaded
        if owned:  # the serving process: models out of the collector's full passes
            freeze_loaded_state()
        app.state.access = access
        threads = PipelineThreads(settings.pipeline_threads or 2 * usable_cores())
        app.state.pipeline_threads = threads
        app.state.triage_coalescer = triage.triage_coalescer(
            threads, max_batch=settings.coalesce_max_batch, metrics=service_metrics
        )
        schedule = (
            EmergingSchedule(
                loaded.jobs,
                interval=timedelta(minutes=settings.insights_interval_minutes),
                window_hours=settings.insights_window_hours,
            ).start()
            if settings.insights_interval_minutes
            else None
        )
        service_metrics.watch_versions(lambda: loaded.current_versions)
        service_metrics.watch_message_log(loaded.message_log.counts)
        app.state.readiness = ReadinessProbe(
            loaded.database, timeout_s=settings.readiness_timeout_s
        )
        try:
            yield
        finally:
            if schedule is not None:
                schedule.close()
            access.close()
            if owned:
                loaded.close()

    app = FastAPI(
        title="helpdesk-triage",
        version="0.1.0",
        summary="Triage, auto-answers and grounded reply drafts for customer-support messages.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = service_metrics
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Outermost: every answer, a 413 from the body limit included, carries the request id.
    app.add_middleware(RequestContextMiddleware, observe=service_metrics.observe_request)

    app.include_router(health.router)
    app.include_router(metrics.router, dependencies=[Depends(authenticate)])
    # Every /v1 route authenticates; the scope each needs is set here per router, or on the
    # routes of routers whose routes need different scopes (kb, feedback).
    scoped = [
        (triage.router, [requires("triage")]),
        (respond.router, [requires("respond")]),
        (suggest.router, [requires("respond")]),
        (summarize.router, [requires("respond")]),
        (feedback.router, []),
        (kb.router, []),
        # The weights change what every search and drafted reply finds: operators only.
        (kb_fusion.router, [requires("admin")]),
        # The message log holds what customers wrote (redacted): the agents' scope.
        (messages.router, [requires("feedback")]),
        # What customers write about, in aggregate: the team lead's scope.
        (insights.router, [requires("stats")]),
        (jobs.router, [requires("admin")]),
        # Reloading models changes what every caller gets: operators only.
        (admin.router, [requires("admin")]),
    ]
    for router, scopes in scoped:
        app.include_router(
            router,
            prefix=f"/{API_VERSION}",
            dependencies=[Depends(authenticate), *scopes],
            responses=ERROR_RESPONSES,
        )
    # Public files only: every call the page makes goes to /v1 with the agent's key.
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")
    return app
