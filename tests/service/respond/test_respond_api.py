"""POST /v1/respond over HTTP (TestClient) with the production wiring on the tiny models.

The demo orders are seeded at startup, dated relative to today: Jane's order 4411829
is in transit with a ParcelPoint tracking link.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.database import head_revision
from service.main import create_app
from service.resources import Resources
from service.respond.respond_policy import PolicyError
from tests.fixtures.order_api_server import OrderApiServer, running_order_api

JANE = {"email": "jane@example.com", "name": "Jane Doe"}
OMAR = {"email": "omar@example.com", "name": "Omar Haddad"}
WHERE = {"text": "Hi, where is my order #4411829?"}
# Everything about Jane's order that must never reach someone else.
JANES_ORDER_DETAILS = ("ParcelPoint", "PP7730194412", "track.parcelpoint", "in_transit", "Teapot")


def post(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/respond", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_verified_where_is_my_order_is_auto_answered(tiny_client: TestClient) -> None:
    body = post(tiny_client, {"message": WHERE, "customer": JANE})
    assert body["action"] == "auto_reply"
    assert body["reasons"] == ["order_verified"]
    assert body["order"]["id"] == "4411829"
    assert body["order"]["status"] == "in_transit"
    text = body["reply"]["text"]
    assert text.startswith("Hi Jane,")
    assert "on its way with ParcelPoint" in text
    assert body["order"]["tracking_url"] in text
    assert body["triage"]["intent"]["label"] == "track_order"
    assert body["triage"]["urgency"]["level"] in {"low", "normal", "high"}
    assert body["suggestions"] == []


def test_same_message_from_another_customer_reveals_nothing(tiny_client: TestClient) -> None:
    response = tiny_client.post("/v1/respond", json={"message": WHERE, "customer": OMAR})
    body = response.json()
    assert body["action"] == "escalate"
    assert body["reasons"] == ["order_not_verified"]
    assert body["reply"] is None and body["order"] is None
    for detail in JANES_ORDER_DETAILS:
        assert detail.lower() not in response.text.lower()


def test_unknown_order_answers_exactly_like_someone_elses(tiny_client: TestClient) -> None:
    foreign = post(tiny_client, {"message": WHERE, "customer": OMAR})
    unknown = post(
        tiny_client, {"message": {"text": "Hi, where is my order #4419999?"}, "customer": OMAR}
    )
    keys = ("action", "reasons", "reply", "order", "suggestions")
    assert {k: foreign[k] for k in keys} == {k: unknown[k] for k in keys}


def test_no_identity_with_an_order_number_escalates(tiny_client: TestClient) -> None:
    body = post(tiny_client, {"message": WHERE})
    assert body["action"] == "escalate"
    assert body["reasons"] == ["identity_missing"]
    assert body["order"] is None


def test_request_for_a_human_escalates(tiny_client: TestClient) -> None:
    body = post(tiny_client, {"message": {"text": "I want to speak to a human"}, "customer": JANE})
    assert body["action"] == "escalate"
    assert body["reasons"] == ["human_requested"]


def test_critical_stolen_account_message_escalates_despite_naming_an_order(
    tiny_client: TestClient,
) -> None:
    text = (
        "Someone hacked into my account and placed order #4411829 with my card, "
        "I did not authorise this!"
    )
    body = post(tiny_client, {"message": {"text": text}, "customer": JANE})
    assert body["triage"]["urgency"]["level"] == "critical"
    assert body["action"] == "escalate"
    assert body["reasons"][0] == "urgency_critical"
    assert body["order"] is None and body["reply"] is None


def test_several_open_orders_ask_which_one(tiny_client: TestClient) -> None:
    body = post(tiny_client, {"message": {"text": "where is my order"}, "customer": OMAR})
    assert body["action"] == "auto_reply"
    assert body["reasons"] == ["several_open_orders"]
    assert "4411901" in body["reply"]["text"] and "4411755" in body["reply"]["text"]


def test_social_channel_moves_to_a_private_message(tiny_client: TestClient) -> None:
    message = {**WHERE, "channel": "social"}
    body = post(tiny_client, {"message": message, "customer": JANE})
    assert body["action"] == "auto_reply"
    assert "public_channel" in body["reasons"]
    reply = body["reply"]["text"]
    assert "direct message" in reply
    for detail in ("4411829", *JANES_ORDER_DETAILS):
        assert detail.lower() not in reply.lower()


def test_suggest_returns_cited_knowledge_base_passages(tiny_client: TestClient) -> None:
    body = post(
        tiny_client, {"message": {"text": "How long does a refund take?"}, "customer": JANE}
    )
    assert body["action"] == "suggest"
    assert body["reasons"][0] == "intent_not_allowed"
    assert body["reply"] is None
    assert 1 <= len(body["suggestions"]) <= 3
    # Suggestions are reply drafts (service/drafting/): each cites the articles it quotes.
    assert body["suggestion_id"] and body["needs_agent"] is False
    for suggestion in body["suggestions"]:
        assert 1 <= len(suggestion["citations"]) <= 3
        for citation in suggestion["citations"]:
            assert citation["doc_id"] and citation["title"]
        assert suggestion["text"].startswith("Hi Jane,") and suggestion["grounded"] is True
        assert suggestion["id"].startswith(body["suggestion_id"])
        assert 0.0 <= suggestion["confidence"] <= 1.0


def test_history_with_the_answer_already_given_escalates(tiny_client: TestClient) -> None:
    first = post(tiny_client, {"message": WHERE, "customer": JANE})
    history = [
        {"role": "customer", "text": WHERE["text"]},
        {"role": "agent", "text": first["reply"]["text"]},
    ]
    again = post(
        tiny_client,
        {"message": {"text": "where is my order??"}, "customer": JANE, "history": history},
    )
    assert again["action"] == "escalate"
    assert again["reasons"][0] == "already_answered"


def test_foreign_language_is_not_auto_answered(tiny_client: TestClient) -> None:
    body = post(
        tiny_client,
        {"message": {"text": "Wo ist meine Bestellung? Ich warte schon lange."}, "customer": JANE},
    )
    assert body["action"] == "suggest"
    assert "language_unsupported" in body["reasons"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": {"text": "   "}}, "message.text"),
        ({"message": {"text": "hi", "channel": "fax"}}, "message.channel"),
        ({"message": {"text": "hi", "colour": "red"}}, "message.colour"),
        ({"message": {"text": "hi"}, "customer": {"id": "x" * 129}}, "customer.id"),
        ({"message": {"text": "hi"}, "customer": {"phone": "1"}}, "customer.phone"),
        ({"message": {"text": "hi"}, "history": [{"role": "bot", "text": "x"}]}, "history.0.role"),
        ({"message": {"text": "hi"}, "history": [{"role": "agent", "text": "x"}] * 51}, "history"),
        ({"message": {"text": "x" * 20_001}}, "message.text"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    tiny_client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = tiny_client.post("/v1/respond", json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_readiness_reports_database_orders_and_policy(tiny_client: TestClient) -> None:
    versions = tiny_client.get("/readyz").json()["versions"]
    assert versions["database"] == head_revision()
    assert versions["orders"] == "sql:sqlite"
    assert len(versions["respond_policy"]) == 12


# -- the shop's API instead of the embedded table ------------------------------------------

SHOP_ORDER = {
    "order_id": "4411829",
    "customer_email": "jane@example.com",
    "status": "in_transit",
    "carrier": "ParcelPoint",
    "tracking_url": "https://track.parcelpoint.example/t/PP7730194412",
    "placed_at": "2026-11-19T09:12:00Z",
}


@pytest.fixture(scope="module")
def shop() -> Iterator[OrderApiServer]:
    with running_order_api({"4411829": SHOP_ORDER}) as api:
        yield api


@pytest.fixture(scope="module")
def shop_client(
    shop: OrderApiServer,
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[TestClient]:
    with (
        build_tiny_resources(
            tmp_path_factory.mktemp("var"),
            orders_connector="http",
            orders_http_order_url=shop.base_url + "/orders/{order_id}",
            orders_http_order_root="data",
            orders_http_timeout_s=0.3,
            orders_http_retries=1,
            orders_http_backoff_s=0.0,
            orders_http_breaker_failures=1000,
        ) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("ok", None),
        ("slow", "order_lookup_timeout"),
        ("error", "order_lookup_failed"),
        ("malformed", "order_lookup_malformed"),
    ],
)
def test_order_api_failures_escalate_and_never_500(
    shop: OrderApiServer, shop_client: TestClient, mode: str, reason: str | None
) -> None:
    shop.mode = mode
    try:
        response = shop_client.post("/v1/respond", json={"message": WHERE, "customer": JANE})
    finally:
        shop.mode = "ok"
    assert response.status_code == 200
    body = response.json()
    if reason is None:
        assert body["action"] == "auto_reply"
        assert SHOP_ORDER["tracking_url"] in body["reply"]["text"]
    else:
        assert body["action"] == "escalate"
        assert body["reasons"] == [reason]
        assert body["order"] is None and body["reply"] is None


def test_readiness_names_the_http_connector(shop_client: TestClient) -> None:
    assert shop_client.get("/readyz").json()["versions"]["orders"] == "http:127.0.0.1"


# -- startup ------------------------------------------------------------------------------------


def test_invalid_policy_file_stops_startup_with_a_clear_error(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        json.dumps({"version": 1, "auto_reply": {"min_confidence": "high"}}), encoding="utf-8"
    )
    with (
        pytest.raises(PolicyError) as info,
        build_tiny_resources(tmp_path / "var", respond_policy_path=policy),
    ):
        pass
    assert str(policy) in str(info.value)
    assert "auto_reply.min_confidence" in str(info.value)
