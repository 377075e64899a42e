"""App factory. Run with ``uvicorn --factory service.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from service.api import admin, feedback, health, kb, respond, suggest, triage
from service.body_limit import BodySizeLimitMiddleware
from service.deps import require_api_key
from service.errors import ERROR_RESPONSES, install_error_handlers
from service.resources import Resources, load_resources
from service.settings import Settings

logger = logging.getLogger(__name__)

API_VERSION = "v1"


def create_app(settings: Settings | None = None, *, resources: Resources | None = None) -> FastAPI:
    """Build the FastAPI app.

    Args:
        settings: configuration; read from ``TRIAGE_*`` environment variables when omitted.
        resources: already-loaded resources (tests share one set across apps); when
            omitted the lifespan loads them and a failure aborts startup.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = resources is None
        loaded = (
            resources
            if resources is not None
            else await run_in_threadpool(load_resources, settings)
        )
        app.state.resources = loaded
        try:
            yield
        finally:
            if owned:
                loaded.close()

    app = FastAPI(
        title="helpdesk-triage",
        version="0.1.0",
        summary="Triage, auto-answers and grounded reply drafts for customer-support messages.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)

    app.include_router(health.router)
    for module in (triage, respond, suggest, feedback, kb, admin):
        app.include_router(
            module.router,
            prefix=f"/{API_VERSION}",
            dependencies=[Depends(require_api_key)],
            responses=ERROR_RESPONSES,
        )
    return app
