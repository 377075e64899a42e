"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import ResourcesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering (async: never waits for a worker thread)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(resources: ResourcesDep) -> dict[str, Any]:
    """Models and indexes are loaded; names the version of each (and the model registry's
    version serving per kind)."""
    return {"status": "ready", "versions": resources.current_versions, **resources.model_report()}
