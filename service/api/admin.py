"""Operator routes: ``POST /v1/admin/reload`` makes this worker load the registry's active
models now instead of at its next poll (``service/model_slot.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service.deps import ModelSlotDep

router = APIRouter(prefix="/admin", tags=["admin"])


class ReloadResponse(BaseModel):
    """What the reload did."""

    changed: bool = Field(description="New models now serve on this worker.")
    models: dict[str, str] = Field(description="Registry version serving now, per kind.")
    versions: dict[str, str] = Field(description="Serving versions as the manifests name them.")


@router.post(
    "/reload",
    responses={409: {"description": "The active versions failed to load; nothing changed."}},
)
def reload_models(slot: ModelSlotDep) -> ReloadResponse:
    """Load the registry's active intent, urgency and gate versions on this worker.

    Plain ``def``: loading artifacts is file and numpy work, kept off the event loop. With
    several workers each follows the registry on its own within about a second; this
    forces the one that answers.
    """
    outcome = slot.reload()
    return ReloadResponse(
        changed=outcome.changed, models=outcome.active, versions=slot.current.versions
    )
