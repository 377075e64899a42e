"""POST /v1/summarize over HTTP, and /v1/respond honouring an earlier agent commitment."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

JANE = {"email": "jane@example.com", "name": "Jane Doe"}
REFUND_THREAD = [
    {"role": "customer", "text": "Hi, my order #4411829 is late. Can I cancel it please?"},
    {
        "role": "agent",
        "text": "Sorry Jane. I have cancelled the order and you will receive a full refund "
        "within 5 days.",
    },
]


def summarize(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/summarize", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_summary_lists_wants_entities_commitments_and_open_items(tiny_client: TestClient) -> None:
    body = summarize(
        tiny_client, {"history": REFUND_THREAD, "text": "Still no money back. Where is it?"}
    )
    assert body["customer_turns"] == 2 and body["agent_turns"] == 1
    assert body["wants"][0] == "Can I cancel it please?"
    orders = [e["value"].lstrip("#") for e in body["entities"] if e["type"] == "order_id"]
    assert orders == ["4411829"]
    kinds = {(c["kind"], c["status"]) for c in body["binding_commitments"]}
    assert kinds == {("cancellation", "done"), ("refund", "promised")}
    assert [o["kind"] for o in body["open_items"]] == ["promise", "unanswered"]
    assert body["open_items"][1]["turn"] == 2
    assert [s["turn"] for s in body["sentiment"]] == [0, 2]
    assert body["trend"] in {"improving", "worsening", "steady"}


def test_summary_of_a_thread_without_agents_has_no_commitments(tiny_client: TestClient) -> None:
    body = summarize(tiny_client, {"history": [{"role": "customer", "text": "hello?"}]})
    assert body["commitments"] == [] and body["trend"] == "unknown"


def test_empty_or_malformed_conversations_are_422(tiny_client: TestClient) -> None:
    for bad in ({"history": []}, {}, {"history": [{"role": "bot", "text": "x"}]}):
        response = tiny_client.post("/v1/summarize", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["code"]


def test_respond_does_not_auto_answer_over_an_earlier_promise(tiny_client: TestClient) -> None:
    message = {"text": "Hi, where is my order #4411829?"}
    plain = tiny_client.post("/v1/respond", json={"message": message, "customer": JANE}).json()
    assert plain["action"] == "auto_reply"
    promised = tiny_client.post(
        "/v1/respond", json={"message": message, "customer": JANE, "history": REFUND_THREAD}
    ).json()
    assert promised["action"] == "suggest"
    assert promised["reasons"][0] == "earlier_commitment"
    assert promised["reply"] is None


def test_a_declined_request_does_not_block_the_automatic_answer(tiny_client: TestClient) -> None:
    history = [
        {"role": "customer", "text": "Can I get a discount on order 4411829?"},
        {"role": "agent", "text": "Sorry, we can't offer a discount on sale items."},
    ]
    body = tiny_client.post(
        "/v1/respond",
        json={
            "message": {"text": "ok. where is my order #4411829?"},
            "customer": JANE,
            "history": history,
        },
    ).json()
    assert "earlier_commitment" not in body["reasons"]
