"""POST /v1/suggest, POST /v1/feedback, GET /v1/feedback/export and GET /v1/stats over HTTP
with the production wiring on the tiny models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from models.errors import UnavailableError
from service.database import head_revision
from service.main import create_app
from service.resources import Resources

JANE = {"email": "jane@example.com", "name": "Jane Doe"}
REFUND = {"message": {"text": "How long does a refund take?"}, "customer": JANE}
CARD = "4111 1111 1111 1111"


def suggest(client: TestClient, body: dict[str, Any] = REFUND) -> dict[str, Any]:
    response = client.post("/v1/suggest", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def export(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/feedback/export", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_suggest_returns_grounded_drafts_without_a_decision(tiny_client: TestClient) -> None:
    body = suggest(tiny_client)
    assert "action" not in body and "reply" not in body
    assert 1 <= len(body["suggestions"]) <= 3 and not body["needs_agent"]
    for draft in body["suggestions"]:
        assert draft["id"].startswith(body["suggestion_id"])
        assert draft["grounded"] and draft["citations"]
        assert draft["text"].startswith("Hi Jane,")
        assert set(draft["citations"][0]) == {"doc_id", "title", "url", "snippet"}
    assert body["generator"] == "extractive" and body["fallback_reason"] is None
    assert body["triage"]["intent"]["label"]


def test_feedback_on_a_draft_is_stored_and_replays_identically(
    tiny_client: TestClient,
) -> None:
    draft = suggest(tiny_client)["suggestions"][0]
    body = {
        "suggestion_id": draft["id"],
        "outcome": "edited",
        "final_text": draft["text"].replace("Hi Jane,", "Dear Jane,"),
        "correct_intent": "get_refund",
        "correct_urgency": "normal",
        "agent_id": "agent-7",
    }
    first = tiny_client.post("/v1/feedback", json=body)
    again = tiny_client.post("/v1/feedback", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["draft_id"] == draft["id"]
    assert 0.0 < first.json()["edit_distance"] < 0.2
    conflicting = tiny_client.post("/v1/feedback", json={**body, "final_text": "Other"})
    assert conflicting.status_code == 409


def test_respond_suggestions_take_feedback_too(tiny_client: TestClient) -> None:
    result = tiny_client.post("/v1/respond", json=REFUND).json()
    assert result["action"] == "suggest" and result["suggestion_id"]
    response = tiny_client.post(
        "/v1/feedback", json={"suggestion_id": result["suggestion_id"], "outcome": "accepted"}
    )
    assert response.status_code == 201
    assert response.json()["edit_distance"] == 0.0


def test_unknown_suggestion_is_404(tiny_client: TestClient) -> None:
    response = tiny_client.post(
        "/v1/feedback", json={"suggestion_id": "f" * 32, "outcome": "accepted"}
    )
    assert response.status_code == 404
    assert "suggestion_id" in response.json()["detail"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"outcome": "edited"}, "final_text"),
        ({"outcome": "edited", "final_text": "   "}, "final_text"),
        ({"outcome": "accepted", "correct_intent": "buy_a_pony"}, "correct_intent"),
        ({"outcome": "accepted", "correct_urgency": "urgent"}, "correct_urgency"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "accepted", "colour": "red"}, "colour"),
        ({"outcome": "accepted", "agent_id": "x" * 129}, "agent_id"),
    ],
)
def test_bad_feedback_is_a_422_naming_the_field(
    tiny_client: TestClient, extra: dict[str, Any], field: str
) -> None:
    suggestion_id = suggest(tiny_client)["suggestion_id"]
    response = tiny_client.post("/v1/feedback", json={"suggestion_id": suggestion_id, **extra})
    assert response.status_code == 422
    assert field in fields(response)


def test_export_streams_parseable_jsonl_and_filters_by_since(
    tiny_client: TestClient,
) -> None:
    body = {"message": {"text": f"I was charged twice on my card {CARD}"}, "customer": JANE}
    suggestion_id = suggest(tiny_client, body)["suggestion_id"]
    tiny_client.post(
        "/v1/feedback",
        json={
            "suggestion_id": suggestion_id,
            "outcome": "rejected",
            "correct_intent": "get_refund",
        },
    )
    lines = export(tiny_client)
    [mine] = [line for line in lines if line["suggestion_id"] == suggestion_id]
    assert mine["correct_intent"] == "get_refund" and mine["outcome"] == "rejected"
    assert "4111" not in mine["text"] and mine["text"].endswith("my card [card]")
    assert export(tiny_client, since="2999-01-01") == []
    assert mine in export(tiny_client, since=mine["recorded_at"])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/feedback/export", {"since": "yesterday"}, "query.since"),
        ("/v1/stats", {"since": "2026-13-45"}, "query.since"),
        ("/v1/stats", {"until": "soon"}, "query.until"),
        ("/v1/stats", {"since": "2026-11-22", "until": "2026-11-21"}, "query.until"),
    ],
)
def test_bad_time_window_is_a_422(
    tiny_client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    response = tiny_client.get(path, params=params)
    assert response.status_code == 422
    assert field in fields(response)


def test_stats_count_respond_decisions(tiny_client: TestClient) -> None:
    before = tiny_client.get("/v1/stats").json()
    tiny_client.post("/v1/respond", json=REFUND)
    tiny_client.post(
        "/v1/respond",
        json={"message": {"text": "Hi, where is my order #4411829?"}, "customer": JANE},
    )
    after = tiny_client.get("/v1/stats").json()
    assert after["decisions"] == before["decisions"] + 2
    actions = after["actions"]
    assert actions.get("suggest", 0) >= 1 and actions.get("auto_reply", 0) >= 1
    assert after["auto_reply_rate"] == round(actions.get("auto_reply", 0) / after["decisions"], 4)
    assert sum(after["intents"].values()) == after["decisions"]
    assert sum(after["urgency"].values()) == after["decisions"]
    empty = tiny_client.get("/v1/stats", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert empty["decisions"] == 0 and empty["auto_reply_rate"] is None


def test_respond_fails_with_503_when_the_decision_cannot_be_stored(
    fresh_resources: Resources,
) -> None:
    with fresh_resources.database.engine.begin() as conn:
        conn.execute(text("DROP TABLE respond_decisions"))
    app = create_app(fresh_resources.settings, resources=fresh_resources)
    with TestClient(app) as client:
        response = client.post("/v1/respond", json=REFUND)
        assert response.status_code == 503
        assert "retry" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) > 0
        # /v1/suggest does not write decisions and still works.
        assert client.post("/v1/suggest", json=REFUND).status_code == 200


def test_a_knowledge_base_outage_is_a_503_to_retry_not_a_holding_reply(
    fresh_resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise UnavailableError("the knowledge base index is being replaced; retry")

    monkeypatch.setattr(fresh_resources.kb, "retrieve", down)
    with TestClient(create_app(fresh_resources.settings, resources=fresh_resources)) as client:
        for path in ("/v1/respond", "/v1/suggest"):
            response = client.post(path, json=REFUND)
            assert response.status_code == 503, path
            assert response.json()["code"] == "unavailable"
            assert int(response.headers["Retry-After"]) > 0
        # Nothing was recorded: the caller retries the whole call.
        assert client.get("/v1/stats").json()["decisions"] == 0
        # Messages that need no drafts are still answered.
        where = {"message": {"text": "Hi, where is my order #4411829?"}, "customer": JANE}
        assert client.post("/v1/respond", json=where).json()["action"] == "auto_reply"


def test_readiness_names_the_drafting_setup(tiny_client: TestClient) -> None:
    versions = tiny_client.get("/readyz").json()["versions"]
    assert versions["database"] == head_revision()
    assert versions["drafts"].startswith("extractive")


@pytest.mark.integration
def test_suggest_feedback_export_and_stats_on_postgresql(
    postgres_url: str,
    tmp_path: Any,
    build_tiny_resources: Any,
) -> None:
    with (
        build_tiny_resources(tmp_path / "var", database_url=postgres_url) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as client,
    ):
        result = client.post("/v1/respond", json=REFUND).json()
        draft_id = result["suggestions"][0]["id"]
        body = {"suggestion_id": draft_id, "outcome": "edited", "final_text": "Hi Jane"}
        first = client.post("/v1/feedback", json=body)
        assert first.status_code == 201
        assert client.post("/v1/feedback", json=body).json() == first.json()
        lines = export(client)
        assert any(line["draft_id"] == draft_id for line in lines)
        stats = client.get("/v1/stats").json()
        assert stats["decisions"] >= 1 and stats["rated_suggestions"] >= 1
