"""Every FastAPI dependency of the routes: the loaded resources and the parts routes use.

Routes ask for the part they need (``TriagerDep``, ``ResponderDep``, ...), never for the
whole ``Resources``, so a test can replace one part with ``app.dependency_overrides``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kb_index.knowledge_base import KnowledgeBase
from models.triager import Triager
from service.database import as_utc
from service.feedback.feedback_store import FeedbackStore
from service.model_slot import ModelSlot
from service.resources import Resources, ServingModels
from service.respond.response_pipeline import ResponsePipeline
from service.settings import Settings


def get_resources(request: Request) -> Resources:
    """The resources the lifespan loaded (requests are served only after it finished)."""
    resources: Resources = request.app.state.resources
    return resources


def get_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_triager(resources: ResourcesDep) -> Triager:
    """The triager."""
    return resources.triager


def get_responder(resources: ResourcesDep) -> ResponsePipeline:
    """The response pipeline: triage, decide, draft, record."""
    return resources.responder


def get_kb(resources: ResourcesDep) -> KnowledgeBase:
    """The knowledge base."""
    return resources.kb


def get_feedback_store(resources: ResourcesDep) -> FeedbackStore:
    """The store of suggestions, decisions and agent feedback."""
    return resources.feedback


def get_model_slot(resources: ResourcesDep) -> ModelSlot[ServingModels]:
    """The slot holding the serving models (reloaded by ``POST /v1/admin/reload``)."""
    return resources.models


TriagerDep = Annotated[Triager, Depends(get_triager)]
ResponderDep = Annotated[ResponsePipeline, Depends(get_responder)]
KbDep = Annotated[KnowledgeBase, Depends(get_kb)]
FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
ModelSlotDep = Annotated[ModelSlot[ServingModels], Depends(get_model_slot)]

TimeQuery = Annotated[
    datetime | None,
    Query(description="ISO-8601 date or time (UTC when no offset is given), or Unix seconds."),
]


@dataclass(frozen=True)
class TimeWindow:
    """``[since, until)`` in UTC; an open end is ``None``."""

    since: datetime | None
    until: datetime | None


def get_since(since: TimeQuery = None) -> datetime | None:
    """The ``since`` query parameter in UTC."""
    return as_utc(since) if since is not None else None


SinceDep = Annotated[datetime | None, Depends(get_since)]


def get_time_window(start: SinceDep, until: TimeQuery = None) -> TimeWindow:
    """The ``since``/``until`` query parameters; 422 naming ``until`` when it is not after
    ``since``."""
    end = as_utc(until) if until is not None else None
    if start is not None and end is not None and end <= start:
        raise RequestValidationError(
            [{"loc": ("query", "until"), "msg": "must be after since", "type": "value_error"}]
        )
    return TimeWindow(start, end)


TimeWindowDep = Annotated[TimeWindow, Depends(get_time_window)]

_bearer = HTTPBearer(auto_error=False)


def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """When an API key is configured, every /v1 route needs it as a bearer token."""
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value()
    if credentials is None or not secrets.compare_digest(credentials.credentials, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API key (send `Authorization: Bearer <key>`)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def get_actor(request: Request) -> str | None:
    """Name of the API key the request was authenticated with (``request.state.principal_name``,
    set by the authentication dependency), for audit records; ``None`` without keys."""
    name: str | None = getattr(request.state, "principal_name", None)
    return name


ActorDep = Annotated[str | None, Depends(get_actor)]
