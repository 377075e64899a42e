"""POST /v1/triage returns every signal: urgency, sentiment, entities, language, routing.

The app runs over real HTTP (TestClient) with the production wiring (``build_triager``)
on a tiny intent model and a tiny urgency model built on the hashing encoder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.intent_classifier import IntentClassifier
from models.routing_policy import RoutingConfigError
from service.resources import build_triager
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder


@pytest.fixture(scope="module")
def client(tiny_client: TestClient) -> TestClient:
    """The full app on the tiny intent and urgency models (``tiny_resources``)."""
    return tiny_client


EMAIL = (
    "<html><body><p>Hello team,</p>"
    "<p>I hope you are well. I have been a customer for years and love the shop.</p>"
    "<p>Last week I bought a set of chairs; delivery was quick and they look great.</p>"
    "<p>However, my card shows two payments of <b>$249.99</b> for order <b>#4411829</b>. "
    "I did not authorise the second one. Call me on +1 (555) 201-3344.</p>"
    "<p>Thanks,<br>Jane</p>"
    '<div class="gmail_quote">On Mon, Support wrote:<blockquote>Your order 9999999 shipped.'
    "</blockquote></div></body></html>"
)


def test_html_email_with_quote_gets_every_signal(client: TestClient) -> None:
    response = client.post("/v1/triage", json={"text": EMAIL, "subject": "Re: double payment"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"intent", "urgency", "sentiment", "entities", "language", "routing"}
    assert body["language"] == {"code": "en", "supported": True}
    assert body["intent_trusted"] is True
    assert body["urgency"]["level"] in {"low", "normal", "high", "critical"}
    assert 0.0 <= body["urgency"]["score"] <= 1.0
    assert body["sentiment"]["label"] in {"negative", "neutral", "positive"}
    assert set(body["routing"]) == {"queue", "priority"}
    by_type = {(e["type"], e["value"]) for e in body["entities"]}
    assert ("order_id", "#4411829") in by_type
    assert ("money", "$249.99") in by_type
    assert ("phone", "+1 (555) 201-3344") in by_type
    assert all(e["value"] != "9999999" for e in body["entities"])  # quoted thread
    for entity in body["entities"]:
        assert EMAIL[entity["start"] : entity["end"]] == entity["value"]
        assert entity["source"] == "text"
    assert "9999999" not in body["focus_text"]


def test_order_number_in_the_subject_is_an_entity_of_the_subject(client: TestClient) -> None:
    subject = "Re: Order #4411829"
    body = client.post("/v1/triage", json={"text": "any news?", "subject": subject}).json()
    (entity,) = body["entities"]
    assert entity["source"] == "subject"
    assert subject[entity["start"] : entity["end"]] == entity["value"] == "#4411829"


def test_entities_offsets_point_into_the_original_text(client: TestClient) -> None:
    text = (
        "Hi,\n\nmy order no. AB-12345 cost €89 and was due 2025-03-02. Reach me at 020 7946 0958."
    )
    body = client.post("/v1/triage", json={"text": text}).json()
    found = {e["type"]: e for e in body["entities"]}
    assert found["order_id"]["value"] == "AB-12345"
    assert set(found) == {"order_id", "money", "date", "phone"}
    for entity in body["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["value"]


def test_non_english_message_marks_the_intent_untrusted(client: TestClient) -> None:
    text = "Bonjour, mon colis n'est jamais arrivé et je voudrais être remboursée, merci."
    body = client.post("/v1/triage", json={"text": text}).json()
    assert body["language"] == {"code": "fr", "supported": False}
    assert body["intent_trusted"] is False
    assert "not supported" in body["untrusted_reason"]
    assert body["routing"]["queue"] in {"multilingual", "escalations", "trust_and_safety"}


def test_history_with_two_earlier_customer_messages_is_repeat_contact(client: TestClient) -> None:
    history = [
        {"role": "customer", "text": "Where is my order 5520914?", "at": "2025-03-01T09:00:00Z"},
        {"role": "agent", "text": "It will arrive in 2-3 days."},
        {"role": "customer", "text": "Still nothing, any update?"},
    ]
    body = client.post("/v1/triage", json={"text": "hello?", "history": history}).json()
    assert body["urgency"]["level"] in {"high", "critical"}
    assert "repeat contact (2 earlier messages)" in body["urgency"]["reasons"]


def test_bad_history_role_is_a_422_naming_the_field(client: TestClient) -> None:
    response = client.post(
        "/v1/triage", json={"text": "hi", "history": [{"role": "bot", "text": "x"}]}
    )
    assert response.status_code == 422
    assert "history.0.role" in response.json()["detail"]


def test_batch_keeps_order_and_signals(client: TestClient) -> None:
    items = [{"text": "love the new app!"}, {"text": "Wo ist meine Bestellung?"}]
    results = client.post("/v1/triage/batch", json={"items": items}).json()["results"]
    assert [r["language"]["code"] for r in results] == ["en", "de"]


def test_readyz_names_the_signal_versions(client: TestClient) -> None:
    versions = client.get("/readyz").json()["versions"]
    assert versions["urgency_model"] == "urgency-tiny@1"
    assert versions["language_detector"].startswith("fasttext-lid176@")
    assert versions["sentiment"].startswith("vader-support@")


def test_invalid_routing_file_stops_the_wiring(
    tmp_path: Path, tiny_urgency_dir: Path, tiny_intent_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text("default_queue: general\npriority_by_urgency: {critical: P1}\n", "utf-8")
    settings = Settings(data_dir=tmp_path, urgency_model_dir=tiny_urgency_dir, routing_file=bad)
    intent = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    with pytest.raises(RoutingConfigError, match="priority_by_urgency"):
        build_triager(settings, intent=intent, encoder=hashing_encoder)


def test_urgency_artifact_of_another_encoder_stops_the_wiring(
    tmp_path: Path, tiny_intent_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    from models.errors import EncoderMismatchError
    from service.settings import DEFAULT_URGENCY_MODEL

    settings = Settings(data_dir=tmp_path, urgency_model_dir=DEFAULT_URGENCY_MODEL)
    intent = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    with pytest.raises(EncoderMismatchError):
        build_triager(settings, intent=intent, encoder=hashing_encoder)
