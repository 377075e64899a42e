"""Typed dependencies for route handlers."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from models.triager import Triager
from service.resources import Resources
from service.settings import Settings


def get_resources(request: Request) -> Resources:
    """The loaded resources; 503 while the lifespan has not finished loading."""
    resources: Resources | None = getattr(request.app.state, "resources", None)
    if resources is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "service is still loading")
    return resources


def get_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_triager(resources: ResourcesDep) -> Triager:
    """The triage pipeline."""
    return resources.triager


TriagerDep = Annotated[Triager, Depends(get_triager)]

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
