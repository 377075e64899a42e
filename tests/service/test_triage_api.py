"""POST /v1/triage and /v1/triage/batch over real HTTP semantics (TestClient), real models."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings

pytestmark = pytest.mark.encoder

README_EXAMPLE = "Where is my order 4411829? It should have arrived by now."


def test_triage_answers_track_order_for_the_readme_example(client: TestClient) -> None:
    response = client.post("/v1/triage", json={"text": README_EXAMPLE})
    assert response.status_code == 200, response.text
    intent = response.json()["intent"]
    assert intent["label"] == "track_order"
    assert intent["category"] == "ORDER"
    assert 0.5 < intent["confidence"] <= 1.0
    assert intent["out_of_scope"] is False
    assert all(a["label"] != "track_order" for a in intent["alternatives"])
    assert response.json()["model_version"].startswith("intent-bitext@")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("i want to teack my parcel", "track_order"),
        ("how can i cancle my purchse", "cancel_order"),
        ("i cant remmeber my pasword", "recover_password"),
    ],
)
def test_typos_are_read_as_the_words_meant(client: TestClient, text: str, label: str) -> None:
    # intent-bitext@1.2.0, which read messages as typed, called each of these out of scope.
    response = client.post("/v1/triage", json={"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"]["label"] == label
    assert body["intent"]["out_of_scope"] is False
    assert body["focus_text"] == text  # the answer shows the message as typed


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather like in paris tomorrow",
        "can you recommend a good pasta recipe",
        "qwertyuiop asdf zxcv",
    ],
)
def test_triage_rejects_messages_about_no_intent(client: TestClient, text: str) -> None:
    intent = client.post("/v1/triage", json={"text": text}).json()["intent"]
    assert intent["out_of_scope"] is True
    assert intent["label"] == "out_of_scope"
    assert intent["category"] is None


def test_triage_uses_the_subject(client: TestClient) -> None:
    body = {
        "subject": "Refund for broken kettle",
        "text": "Hello, see subject. Thanks",
        "channel": "email",
    }
    intent = client.post("/v1/triage", json=body).json()["intent"]
    assert intent["category"] == "REFUND"


def test_batch_keeps_the_order_of_items(client: TestClient) -> None:
    items = [
        {"text": README_EXAMPLE},
        {"text": "I forgot my password and cannot log in"},
        {"text": "I want to speak to a human"},
    ]
    response = client.post("/v1/triage/batch", json={"items": items})
    assert response.status_code == 200, response.text
    labels = [r["intent"]["label"] for r in response.json()["results"]]
    assert labels == ["track_order", "recover_password", "contact_human_agent"]
    single = client.post("/v1/triage", json=items[1]).json()
    assert response.json()["results"][1]["intent"] == single["intent"]


def _error(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    assert isinstance(body["detail"], str)
    return body["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": 42}, "text"),
        ({"text": ["a"]}, "text"),
        ({}, "text"),
        ({"text": "hi", "priority": "high"}, "priority"),
        ({"text": "hi", "channel": "fax"}, "channel"),
        ({"text": "hi", "subject": 5}, "subject"),
    ],
)
def test_triage_rejects_bad_input_naming_the_field(
    client: TestClient, body: dict, field: str
) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/triage", json=body)
    assert response.status_code == 422
    assert field in _error(response)
    assert any(e["field"].startswith(field) for e in response.json()["errors"])


def test_text_of_exactly_20000_characters_is_accepted(client: TestClient) -> None:
    text = ("Where is my order? " * 1100)[:20_000]
    assert client.post("/v1/triage", json={"text": text}).status_code == 200


def test_broken_json_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/v1/triage", content=b'{"text": "where is', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in _error(response)


def test_body_that_is_not_an_object_is_a_422(client: TestClient) -> None:
    response = client.post("/v1/triage", json=["where is my order"])
    assert response.status_code == 422


def test_batch_limits(client: TestClient) -> None:
    too_many = {"items": [{"text": "hi"}] * 257}
    response = client.post("/v1/triage/batch", json=too_many)
    assert response.status_code == 422
    assert "items" in _error(response)
    assert client.post("/v1/triage/batch", json={"items": []}).status_code == 422
    bad_item = client.post("/v1/triage/batch", json={"items": [{"text": "ok"}, {"text": ""}]})
    assert bad_item.status_code == 422
    assert "items.1.text" in _error(bad_item)


def test_body_over_the_limit_is_a_413(app_resources) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=app_resources.settings.data_dir, max_body_bytes=64_000)
    with TestClient(create_app(settings, resources=app_resources)) as small:
        payload = json.dumps({"items": [{"text": "x" * 10_000}] * 8}).encode()
        response = small.post(
            "/v1/triage/batch", content=payload, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "64000" in _error(response)
        ok = small.post("/v1/triage", json={"text": README_EXAMPLE})
        assert ok.status_code == 200


def test_streamed_body_over_the_limit_is_a_413(app_resources) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=app_resources.settings.data_dir, max_body_bytes=64_000)

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"items": ['
        for i in range(10):
            yield (b"," if i else b"") + json.dumps({"text": "y" * 10_000}).encode()
        yield b"]}"

    with TestClient(create_app(settings, resources=app_resources)) as small:
        response = small.post(
            "/v1/triage/batch", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "64000" in _error(response)

        def small_chunks():  # type: ignore[no-untyped-def]
            yield b'{"text": "Where is my order '
            yield b'4411829?"}'

        ok = small.post(
            "/v1/triage", content=small_chunks(), headers={"content-type": "application/json"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["intent"]["label"] == "track_order"


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    assert client.post("/v1/nothing", json={}).status_code == 404
    wrong = client.get("/v1/triage")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "POST"
    # A path served by several routes names all their methods (RFC 9110), not the first's.
    document = client.request("OPTIONS", "/v1/kb/documents/any-id")
    assert document.status_code == 405
    assert document.headers["allow"] == "DELETE, GET, PUT"
    assert client.post("/v1/kb/fusion").headers["allow"] == "GET, PUT"


def test_health_and_readiness_name_versions(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    versions = ready.json()["versions"]
    assert versions["intent_model"].startswith("intent-bitext@")
    assert versions["encoder"].startswith("sentence-transformers/all-MiniLM-L6-v2@")


def test_openapi_documents_the_triage_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/triage" in spec["paths"]
    assert "/v1/triage/batch" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_api_key_is_required_when_configured(app_resources) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=app_resources.settings.data_dir, api_key="s3cret-key")
    with TestClient(create_app(settings, resources=app_resources)) as secured:
        assert secured.post("/v1/triage", json={"text": "hi"}).status_code == 401
        wrong = secured.post(
            "/v1/triage", json={"text": "hi"}, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        ok = secured.post(
            "/v1/triage",
            json={"text": README_EXAMPLE},
            headers={"Authorization": "Bearer s3cret-key"},
        )
        assert ok.status_code == 200
        assert secured.get("/healthz").status_code == 200
