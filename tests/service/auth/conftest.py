"""Access-control fixtures: apps on the tiny models with scoped keys."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.auth.scopes import SCOPES
from service.main import create_app
from service.resources import Resources
from service.settings import ApiKeyEntry, Settings

#: One key per scope, named after it: ``key-of-<scope>-0123456789``.
SCOPE_KEYS = {scope: f"key-of-{scope}-0123456789" for scope in SCOPES}


def scope_entries() -> list[ApiKeyEntry]:
    """A ``TRIAGE_API_KEYS`` entry per scope."""
    return [
        ApiKeyEntry.model_validate({"name": s, "key": k, "scopes": [s]})
        for s, k in SCOPE_KEYS.items()
    ]


def scope_keys_json() -> str:
    """The same keys as the JSON a deployment puts in ``TRIAGE_API_KEYS``."""
    return json.dumps([{"name": s, "key": k, "scopes": [s]} for s, k in SCOPE_KEYS.items()])


@pytest.fixture(scope="module")
def scoped_resources(
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[Resources]:
    """Tiny resources with a database of this module's own."""
    with build_tiny_resources(tmp_path_factory.mktemp("var")) as resources:
        yield resources


@pytest.fixture
def app_client(scoped_resources: Resources) -> Callable[..., AbstractContextManager[TestClient]]:
    """``with app_client(**settings) as client``: a fresh app (fresh rate limits) over the
    module's resources, with settings overridden."""

    @contextmanager
    def build(**overrides: Any) -> Iterator[TestClient]:
        settings = Settings(**{**scoped_resources.settings.model_dump(), **overrides})
        with TestClient(create_app(settings, resources=scoped_resources)) as client:
            yield client

    return build


def data_dir(resources: Resources) -> Path:
    """Where the resources keep their database."""
    return resources.settings.data_dir


@pytest.fixture
def scoped_resources_app(scoped_resources: Resources) -> Callable[..., TestClient]:
    """``with scoped_resources_app(base_url=...) as client``: the app without keys, as
    reached on another server address."""

    def build(*, base_url: str) -> TestClient:
        app = create_app(scoped_resources.settings, resources=scoped_resources)
        return TestClient(app, base_url=base_url)

    return build
