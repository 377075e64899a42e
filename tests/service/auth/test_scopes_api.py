"""Each scope opens its routes and no others, on the real app (TestClient)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from service.auth.scopes import SCOPES
from service.deps import ScopeCheck
from service.main import create_app
from service.resources import Resources
from tests.service.auth.conftest import SCOPE_KEYS, scope_entries

MESSAGE = {"message": {"text": "Where is my order 4411829?", "channel": "email"}}
ARTICLE = {"title": "Gift wrapping", "text": "We wrap any order for 3.50 euro."}

#: (scope, method, path, body): one call per route of the issue's table.
CALLS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("triage", "POST", "/v1/triage", {"text": "Where is my order 4411829?"}),
    ("triage", "POST", "/v1/triage/batch", {"items": [{"text": "refund please"}]}),
    ("respond", "POST", "/v1/summarize", {"text": "My parcel 4411829 never arrived."}),
    ("respond", "POST", "/v1/respond", MESSAGE),
    ("respond", "POST", "/v1/suggest", MESSAGE),
    ("kb:read", "GET", "/v1/kb/documents", None),
    ("kb:read", "GET", "/v1/kb/documents/no-such-article", None),
    ("kb:read", "POST", "/v1/kb/search", {"query": "track my parcel"}),
    ("kb:write", "PUT", "/v1/kb/documents/scope-test", ARTICLE),
    ("kb:write", "DELETE", "/v1/kb/documents/no-such-article", None),
    ("feedback", "POST", "/v1/feedback", {"suggestion_id": "nope", "outcome": "accepted"}),
    ("feedback", "GET", "/v1/feedback/export", None),
    ("stats", "GET", "/v1/stats", None),
]
DENIED = {401, 403}


def _call(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> int:
    return client.request(method, path, json=body, headers=headers).status_code


@pytest.fixture
def scoped(
    app_client: Callable[..., AbstractContextManager[TestClient]],
) -> Any:
    with app_client(api_keys=tuple(scope_entries()), rate_limit_per_minute=100_000) as client:
        yield client


@pytest.mark.parametrize(("scope", "method", "path", "body"), CALLS)
def test_each_route_opens_to_its_scope_and_admin_only(
    scoped: TestClient, scope: str, method: str, path: str, body: Any
) -> None:
    for holder, key in SCOPE_KEYS.items():
        status = _call(scoped, method, path, body, {"Authorization": f"Bearer {key}"})
        if holder in (scope, "admin"):
            assert status not in DENIED, (holder, status)
        else:
            assert status == 403, (holder, status)


def test_forbidden_answer_names_the_missing_scope(scoped: TestClient) -> None:
    answer = scoped.post(
        "/v1/triage", json={"text": "hi"}, headers={"X-API-Key": SCOPE_KEYS["stats"]}
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden" and "'triage'" in answer.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-key-0123456789"}, {"X-API-Key": "wrong"}],
    ids=["missing", "wrong-bearer", "wrong-header"],
)
def test_missing_or_wrong_key_is_401_with_the_json_error_body(
    scoped: TestClient, headers: dict[str, str]
) -> None:
    answer = scoped.post("/v1/triage", json={"text": "hi"}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["code"] == "unauthorized" and "X-API-Key" in answer.json()["detail"]


def test_bearer_and_x_api_key_are_both_accepted(scoped: TestClient) -> None:
    key = SCOPE_KEYS["triage"]
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        assert scoped.post("/v1/triage", json={"text": "hi"}, headers=headers).status_code == 200


def test_health_probes_need_no_key(scoped: TestClient) -> None:
    assert scoped.get("/healthz").status_code == 200
    assert scoped.get("/readyz").status_code == 200


def test_legacy_single_key_is_an_admin_key(
    app_client: Callable[..., AbstractContextManager[TestClient]],
) -> None:
    with app_client(api_key="legacy-secret-key") as client:
        headers = {"Authorization": "Bearer legacy-secret-key"}
        assert client.get("/v1/stats", headers=headers).status_code == 200
        assert client.get("/v1/kb/documents", headers=headers).status_code == 200
        assert client.get("/v1/stats").status_code == 401


def test_without_any_key_everything_is_open_on_loopback(
    app_client: Callable[..., AbstractContextManager[TestClient]],
) -> None:
    with app_client() as client:
        assert client.get("/v1/stats").status_code == 200
        assert client.post("/v1/triage", json={"text": "hi"}).status_code == 200


def test_every_v1_route_declares_a_scope(scoped_resources: Resources) -> None:
    app = create_app(scoped_resources.settings, resources=scoped_resources)
    checked, unscoped = 0, []
    for route in iter_route_contexts(app.routes):
        if not str(route.path).startswith("/v1/"):
            continue
        checked += 1
        checks = [d.call for d in route.dependant.dependencies if isinstance(d.call, ScopeCheck)]
        if len(checks) != 1 or checks[0].scope not in SCOPES:
            unscoped.append(f"{sorted(route.methods or ())} {route.path}")
    assert checked >= len(CALLS) and unscoped == []
