"""Text is normalised once at the edge: NFC, CRLF as newline, control characters refused.

A NUL byte used to reach PostgreSQL, which refuses it, and came back as 503 "retry" though
no retry could succeed; now every request field refuses it with a 422 naming the field.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.schemas import normalize_text
from tests.fixtures.adversarial_texts import repeated


@pytest.fixture
def client(tiny_client: TestClient) -> TestClient:
    return tiny_client


def _only_error(response_json: dict[str, object]) -> dict[str, str]:
    errors = response_json["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    error = errors[0]
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/triage", {"text": "where is\x00 my order"}, "text"),
        ("/v1/triage", {"text": "hello", "subject": "re:\x1b[31m"}, "subject"),
        ("/v1/triage/batch", {"items": [{"text": "ok"}, {"text": "bad\x07"}]}, "items.1.text"),
        ("/v1/respond", {"message": {"text": "order 4411829\x00"}}, "message.text"),
        (
            "/v1/respond",
            {"message": {"text": "hi"}, "customer": {"email": "jane\x00@example.com"}},
            "customer.email",
        ),
        ("/v1/suggest", {"message": {"text": "refund\x7f please"}}, "message.text"),
        ("/v1/feedback", {"suggestion_id": "s\x00", "outcome": "accepted"}, "suggestion_id"),
        ("/v1/kb/search", {"query": "returns\x00"}, "query"),
        ("/v1/kb/search", {"query": "returns", "filters": {"tags": ["a\x00"]}}, "filters.tags"),
    ],
)
def test_a_control_character_is_refused_naming_the_field(
    client: TestClient, path: str, body: dict[str, object], field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    error = _only_error(response.json())
    assert error["field"] == field
    assert "U+00" in error["message"]
    assert "control characters other than newline and tab" in error["message"]


def test_a_nul_in_a_knowledge_base_document_is_refused(client: TestClient) -> None:
    response = client.put("/v1/kb/documents/edge-nul", json={"title": "T", "text": "a\x00b"})
    assert response.status_code == 422
    assert _only_error(response.json())["field"] == "text"
    assert client.get("/v1/kb/documents/edge-nul").status_code == 404


def test_a_lone_surrogate_is_refused(client: TestClient) -> None:
    # Python's JSON reader accepts "\ud800"; no UTF-8 store could hold it.
    raw = b'{"text": "order 4411829 \\ud800"}'
    response = client.post("/v1/triage", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "U+D800" in _only_error(response.json())["message"]


def test_newline_and_tab_are_kept_and_carriage_returns_become_newlines(
    client: TestClient,
) -> None:
    response = client.post(
        "/v1/triage", json={"text": "Hello,\r\n\tWhere is my order 4411829?\rThanks"}
    )
    assert response.status_code == 200, response.text
    (order,) = [e for e in response.json()["entities"] if e["type"] == "order_id"]
    normalised = "Hello,\n\tWhere is my order 4411829?\nThanks"
    assert normalised[order["start"] : order["end"]] == "4411829"


def test_text_is_composed_to_nfc() -> None:
    decomposed = "Cafe\u0301 cre\u0300me"
    assert normalize_text(decomposed) == "Café crème"
    assert normalize_text("tab\tand\nnewline") == "tab\tand\nnewline"


def test_a_hostile_message_of_the_largest_size_is_triaged(client: TestClient) -> None:
    response = client.post("/v1/triage", json={"text": repeated("no:")})
    assert response.status_code == 200, response.text
    assert response.json()["entities"] == []
