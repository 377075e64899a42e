"""Every triaged message lands in the message log, and GET /v1/messages reads it back:
production wiring on the tiny models, over HTTP (TestClient)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.messages.message_spool import SPOOL_DIRNAME
from service.resources import Resources

JANE = {"email": "jane@example.com", "name": "Jane Doe"}
REFUND = {"message": {"text": "How long does a refund take?"}, "customer": JANE}
WHERE = {"message": {"text": "Hi, where is my order #4411829?"}, "customer": JANE}
CARD = "4111 1111 1111 1111"


@pytest.fixture
def client(fresh_resources: Resources) -> Any:
    with TestClient(create_app(fresh_resources.settings, resources=fresh_resources)) as c:
        yield c


def messages(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/messages", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_triage_is_logged_with_its_signals_and_embedding(
    client: TestClient, fresh_resources: Resources
) -> None:
    body = {"text": "Where is my order 4411829? It is late.", "channel": "chat"}
    triaged = client.post("/v1/triage", json=body).json()
    page = messages(client)
    assert page["total"] == 1
    (item,) = page["items"]
    assert item["source"] == "triage" and item["channel"] == "chat"
    assert item["text"] == body["text"]
    assert item["triage"]["intent"] == triaged["intent"]
    assert item["triage"]["urgency"] == triaged["urgency"]
    assert item["triage"]["entities"] == triaged["entities"]
    assert item["queue"] == triaged["routing"]["queue"]
    assert item["action"] is None and item["drafts"] == []
    assert item["has_embedding"] is True
    assert client.get(f"/v1/messages/{item['id']}").json() == item
    # The stored float16 vector is the embedding the models read.
    stored = fresh_resources.message_log.store.get(item["id"])
    assert stored.embedding is not None
    vector = np.frombuffer(stored.embedding, dtype=np.float16).astype(np.float32)
    expected = fresh_resources.encoder.encode([triaged["focus_text"]])[0]
    assert vector.shape == expected.shape == (stored.embedding_dim,)
    assert np.allclose(vector, expected, atol=2e-3)


def test_batch_logs_every_item_newest_first(client: TestClient) -> None:
    items = [{"text": f"Where is my order 44118{i}?"} for i in range(10, 13)]
    assert client.post("/v1/triage/batch", json={"items": items}).status_code == 200
    page = messages(client)
    assert page["total"] == 3
    assert {i["source"] for i in page["items"]} == {"triage_batch"}
    times = [i["created_at"] for i in page["items"]]
    assert times == sorted(times, reverse=True)


def test_respond_logs_decision_drafts_citations_and_what_was_sent(client: TestClient) -> None:
    suggested = client.post("/v1/respond", json=REFUND).json()
    replied = client.post("/v1/respond", json=WHERE).json()
    assert (suggested["action"], replied["action"]) == ("suggest", "auto_reply")
    auto = messages(client, action="auto_reply")["items"]
    assert len(auto) == 1
    assert auto[0]["reply"] == replied["reply"]["text"]
    assert auto[0]["reasons"] == replied["reasons"]
    (item,) = messages(client, action="suggest")["items"]
    assert item["suggestion_id"] == suggested["suggestion_id"]
    assert item["needs_agent"] is suggested["needs_agent"]
    assert item["reasons"] == suggested["reasons"]
    assert [d["id"] for d in item["drafts"]] == [s["id"] for s in suggested["suggestions"]]
    draft, wire = item["drafts"][0], suggested["suggestions"][0]
    assert draft["text"] == wire["text"]
    assert [c["doc_id"] for c in draft["citations"]] == [c["doc_id"] for c in wire["citations"]]
    # Every quoted sentence is in the draft and names an article the draft cites.
    cited = {c["doc_id"] for c in draft["citations"]}
    assert draft["quotes"] and all(q["doc_id"] in cited for q in draft["quotes"])
    assert all(q["text"] in draft["text"] for q in draft["quotes"])


def test_card_numbers_never_reach_the_log(client: TestClient) -> None:
    text = f"My card {CARD} was charged twice for order 4411829"
    body = {
        "message": {"text": text, "subject": f"card {CARD}"},
        "customer": JANE,
        "history": [{"role": "customer", "text": f"I paid with {CARD}"}],
    }
    assert client.post("/v1/respond", json=body).status_code == 200
    (item,) = messages(client)["items"]
    assert CARD not in str(item)
    assert "[card]" in item["text"]
    assert "[card]" in item["subject"]
    assert "[card]" in item["history"][0]["text"]
    # Entity offsets point into the redacted text that is stored.
    for entity in item["triage"]["entities"]:
        where = item["text"] if entity["source"] == "text" else item["subject"]
        assert where[entity["start"] : entity["end"]] == entity["value"]


def test_filters_and_paging(client: TestClient) -> None:
    client.post("/v1/respond", json=REFUND)
    client.post("/v1/respond", json=WHERE)
    for i in range(3):
        client.post("/v1/triage", json={"text": f"I was charged twice, order 55{i}"})
    everything = messages(client)
    assert everything["total"] == 5
    for field in ("queue", "urgency", "action"):
        value = next(i[field] for i in everything["items"] if i[field] is not None)
        picked = messages(client, **{field: value})
        expected = [i["id"] for i in everything["items"] if i[field] == value]
        assert [i["id"] for i in picked["items"]] == expected
    needs = messages(client, needs_agent="false")["items"]
    assert needs and all(i["needs_agent"] is False for i in needs)
    first = messages(client, limit=2)
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = messages(client, limit=2, offset=4)
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    ids = [i["id"] for i in first["items"]] + [
        i["id"] for i in messages(client, limit=2, offset=2)["items"]
    ]
    assert [*ids, rest["items"][0]["id"]] == [i["id"] for i in everything["items"]]
    assert messages(client, since="2999-01-01")["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"urgency": "urgent"}, "urgency"),
        ({"action": "ignore"}, "action"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"needs_agent": "maybe"}, "needs_agent"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-30", "until": "2026-11-29"}, "until"),
    ],
)
def test_bad_filters_are_422_naming_the_field(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/messages", params=params)
    assert response.status_code == 422
    assert f"query.{field}" in [e["field"] for e in response.json()["errors"]]


def test_unknown_message_is_404(client: TestClient) -> None:
    response = client.get("/v1/messages/0123456789abcdef")
    assert response.status_code == 404
    assert "0123456789abcdef" in response.json()["detail"]


def test_stats_show_volumes_over_time_and_cited_articles(client: TestClient) -> None:
    empty = client.get("/v1/stats").json()
    assert empty["messages"] == 0 and empty["volumes"] == [] and empty["top_cited"] == []
    suggested = client.post("/v1/respond", json=REFUND).json()
    client.post("/v1/triage", json={"text": "Where is my order 4411829?"})
    stats = client.get("/v1/stats", params={"bucket": "hour"}).json()
    assert stats["bucket"] == "hour" and stats["messages"] == 2
    (bucket,) = stats["volumes"]
    assert bucket["messages"] == 2
    assert sum(bucket["intents"].values()) == sum(bucket["urgency"].values()) == 2
    assert bucket["start"].endswith(":00:00Z") or bucket["start"].endswith(":00:00+00:00")
    cited = {c["doc_id"] for s in suggested["suggestions"] for c in s["citations"]}
    assert {a["doc_id"] for a in stats["top_cited"]} == cited
    assert all(a["count"] == 1 for a in stats["top_cited"])
    assert client.get("/v1/stats", params={"bucket": "week"}).status_code == 422


def test_readiness_reports_the_message_log_migration(client: TestClient) -> None:
    from service.database import head_revision

    assert client.get("/readyz").json()["versions"]["database"] == head_revision()


def test_a_locked_database_neither_slows_triage_nor_loses_its_log_entries(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> None:
    """Production wiring: while another connection holds SQLite's write lock, /v1/triage
    answers at once, the entries that do not fit the (tiny) queue are spooled under the data
    directory, and once the lock is gone every entry is in the log."""
    data_dir = tmp_path / "var"
    with (
        build_tiny_resources(
            data_dir, database_statement_timeout_s=0.3, messages_queue_size=2
        ) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as client,
    ):
        holder = sqlite3.connect(data_dir / "triage.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            for i in range(8):
                started = time.monotonic()
                answer = client.post("/v1/triage", json={"text": f"Where is order {i}?"})
                assert answer.status_code == 200
                assert time.monotonic() - started < 2.0
                if i == 0:
                    time.sleep(0.5)  # the writer holds the first entry, waiting on the lock
            counts = resources.message_log.counts()
            assert counts["spooled"] > 0 and counts["spool_bytes"] > 0
            assert list((data_dir / SPOOL_DIRNAME).glob("*.jsonl"))
        finally:
            holder.execute("COMMIT")
            holder.close()
        deadline = time.monotonic() + 15.0
        while messages(client)["total"] < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert messages(client)["total"] == 8
        assert resources.message_log.counts()["dropped"] == 0
