"""Liveness and readiness probes.

``/healthz`` answers from the event loop without threads or the database: it says the
process is alive even while every worker thread waits on a stalled dependency.
``/readyz`` checks the database with a short timeout and answers 503 naming what is down.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import ReadinessDep, ResourcesDep
from service.errors import NOT_READY_RESPONSE

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering (async: never waits for a worker thread)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: NOT_READY_RESPONSE})
async def readyz(resources: ResourcesDep, probe: ReadinessDep) -> dict[str, Any]:
    """The database answers and the models and indexes are loaded; names the version of
    each (and the model registry's version serving per kind)."""
    await probe.check()
    return {"status": "ready", "versions": resources.current_versions, **resources.model_report()}
