"""Promotions reach a running app without a restart, and a bad one never breaks it.

Full production wiring (``load_resources``) on the tiny models over real files; the app
is driven through ``TestClient`` and the registry through its real on-disk API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.model_registry import ModelRegistry
from service.main import create_app
from service.resources import Resources
from service.settings import Settings
from tests.fixtures.artifact_copies import artifact_variant, other_encoder_variant
from tests.service.auth.conftest import SCOPE_KEYS, scope_entries

MESSAGE = {"text": "Where is my order 4411829? It has not arrived."}


@pytest.fixture
def swap_app(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[tuple[TestClient, ModelRegistry]]:
    """An app whose workers poll the registry every 50 ms, and its registry."""
    with (
        build_tiny_resources(tmp_path / "var", model_poll_interval_s=0.05) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as client,
    ):
        yield client, ModelRegistry(resources.settings.resolved_model_registry_dir)


def _intent_version(client: TestClient) -> str:
    response = client.post("/v1/triage", json=MESSAGE)
    assert response.status_code == 200, response.text
    version: str = response.json()["model_version"]
    return version


def _wait_for(condition: Callable[[], bool], *, within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_first_start_registers_the_configured_models(
    swap_app: tuple[TestClient, ModelRegistry], tiny_intent_dir: Path
) -> None:
    client, registry = swap_app
    ready = client.get("/readyz").json()
    intent = registry.active("intent")
    assert intent is not None
    assert ready["models"]["intent"] == intent.version
    assert set(ready["models"]) == {"intent", "urgency"}  # a fixed threshold replaces the gate
    assert ready["versions"]["intent_model"] == intent.label == _intent_version(client)
    assert ready["model_reload_error"] is None


def test_admin_reload_swaps_to_a_promoted_version(
    swap_app: tuple[TestClient, ModelRegistry], tiny_intent_dir: Path, tmp_path: Path
) -> None:
    client, registry = swap_app
    before = _intent_version(client)
    candidate = registry.register(
        "intent", artifact_variant(tiny_intent_dir, tmp_path / "intent-v2", version="2")
    )
    registry.promote("intent", candidate.version)
    reload = client.post("/v1/admin/reload")
    assert reload.status_code == 200, reload.text
    assert reload.json()["models"]["intent"] == candidate.version
    assert _intent_version(client) == candidate.label != before
    assert client.get("/readyz").json()["versions"]["intent_model"] == candidate.label
    again = client.post("/v1/admin/reload").json()
    assert again["changed"] is False


def test_workers_follow_a_promotion_and_a_rollback_without_a_reload_call(
    swap_app: tuple[TestClient, ModelRegistry], tiny_intent_dir: Path, tmp_path: Path
) -> None:
    client, registry = swap_app
    shipped = _intent_version(client)
    candidate = registry.register(
        "intent", artifact_variant(tiny_intent_dir, tmp_path / "intent-v3", version="3")
    )
    registry.promote("intent", candidate.version)
    assert _wait_for(lambda: _intent_version(client) == candidate.label)
    registry.rollback("intent")
    assert _wait_for(lambda: _intent_version(client) == shipped)


def test_a_version_that_fails_to_load_is_refused_and_the_old_one_keeps_serving(
    swap_app: tuple[TestClient, ModelRegistry], tiny_intent_dir: Path, tmp_path: Path
) -> None:
    client, registry = swap_app
    serving = _intent_version(client)
    foreign = registry.register(
        "intent",
        other_encoder_variant(tiny_intent_dir, tmp_path / "foreign", model_id="test/another"),
    )
    registry.promote("intent", foreign.version)
    reload = client.post("/v1/admin/reload")
    assert reload.status_code == 409
    assert "built with encoder 'test/another'" in reload.json()["detail"]
    assert _intent_version(client) == serving
    ready = client.get("/readyz").json()
    assert ready["versions"]["intent_model"] == serving
    assert foreign.version in ready["model_reload_error"]
    registry.rollback("intent")
    assert _wait_for(lambda: client.get("/readyz").json()["model_reload_error"] is None)


def test_no_request_fails_while_versions_flip(
    swap_app: tuple[TestClient, ModelRegistry], tiny_intent_dir: Path, tmp_path: Path
) -> None:
    client, registry = swap_app
    shipped = registry.active("intent")
    assert shipped is not None
    candidate = registry.register(
        "intent", artifact_variant(tiny_intent_dir, tmp_path / "intent-v4", version="4")
    )
    stop = threading.Event()
    statuses: list[int] = []
    seen: set[str] = set()

    def hammer() -> None:
        while not stop.is_set():
            response = client.post("/v1/respond", json={"message": MESSAGE})
            statuses.append(response.status_code)
            if response.status_code == 200:
                seen.add(response.json()["triage"]["model_version"])

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for w in workers:
        w.start()
    try:
        for i in range(6):
            registry.promote("intent", (candidate if i % 2 == 0 else shipped).version)
            client.post("/v1/admin/reload")
            wanted = 10 * (i + 1)
            _wait_for(lambda n=wanted: len(statuses) > n)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert statuses
    assert set(statuses) == {200}
    assert seen == {shipped.label, candidate.label}


def test_admin_reload_needs_the_admin_scope(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> None:
    with build_tiny_resources(tmp_path / "var", model_poll_interval_s=0) as resources:
        settings = Settings(
            **{
                **resources.settings.model_dump(),
                "api_keys": tuple(scope_entries()),
                "rate_limit_per_minute": 100_000,
            }
        )
        with TestClient(create_app(settings, resources=resources)) as client:
            assert client.post("/v1/admin/reload").status_code == 401
            for scope, key in SCOPE_KEYS.items():
                response = client.post(
                    "/v1/admin/reload", headers={"Authorization": f"Bearer {key}"}
                )
                assert response.status_code == (200 if scope == "admin" else 403), scope
