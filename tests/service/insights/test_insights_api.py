"""GET /v1/insights/emerging and /v1/insights/kb-gaps over HTTP, on a real database filled
the way the service fills it (message log rows, suggestions and agent feedback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.resources import Resources
from tests.service.insights.traffic import BURST, NOW, background, burst


@pytest.fixture
def resources(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[Resources]:
    with build_tiny_resources(tmp_path / "var") as loaded:
        yield loaded


@pytest.fixture
def client(resources: Resources) -> Iterator[TestClient]:
    with TestClient(create_app(resources.settings, resources=resources)) as c:
        yield c


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_routine_traffic_has_no_emerging_issue(client: TestClient, resources: Resources) -> None:
    background(resources)
    body = get(client, "/v1/insights/emerging")
    assert body["messages"] > 20 and body["baseline_messages"] > 6 * body["messages"]
    assert body["themes"] == [] and body["spikes"] == []


def test_a_burst_is_one_theme_with_its_numbers(client: TestClient, resources: Resources) -> None:
    background(resources)
    burst(resources)
    body = get(client, "/v1/insights/emerging")
    [theme] = body["themes"]
    assert sorted(theme["message_ids"]) == [f"burst{i}" for i in range(6)]
    assert "locker" in theme["label"] and theme["intents"] == {"out_of_scope": 6}
    assert theme["growth"] > 3 and theme["significance"] > 3
    assert theme["examples"] and set(theme["examples"]) <= set(BURST)
    assert body["spikes"] == []
    # The same burst a week ago is baseline, not news.
    week_ago = (NOW - timedelta(days=6)).isoformat()
    past = get(
        client, "/v1/insights/emerging", since=week_ago, until=(NOW - timedelta(days=5)).isoformat()
    )
    assert past["themes"] == []


def test_a_reversed_period_is_422(client: TestClient) -> None:
    response = client.get(
        "/v1/insights/emerging",
        params={"since": NOW.isoformat(), "until": (NOW - timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 422 and "until" in response.text


def test_rejected_drafts_become_a_gap_with_the_agents_facts(client: TestClient) -> None:
    questions = [
        # Worded alike: the tiny hashing encoder only sees shared words.
        "Do you offer gift wrapping?",
        "is gift wrapping possible for my order",
        "Is gift wrapping available?",
        "can I get gift wrapping please",
    ]
    replies = [
        "Hi! Gift wrapping costs 3 euros per item. You can choose it at checkout. Thanks!",
        "Hello, yes: gift wrapping costs 3 euros per item. Pick it in the basket at checkout.",
        "Gift wrapping costs 3 euros per item. Kind regards",
        None,
    ]
    for question, reply in zip(questions, replies, strict=True):
        suggestion = client.post("/v1/suggest", json={"message": {"text": question}}).json()
        # The agent throws the draft away and writes the answer (a heavy edit), or rejects it.
        feedback = {"suggestion_id": suggestion["suggestion_id"], "outcome": "rejected"}
        if reply is not None:
            feedback = {**feedback, "outcome": "edited", "final_text": reply}
        assert client.post("/v1/feedback", json=feedback).status_code in {200, 201}
    client.post("/v1/suggest", json={"message": {"text": "where is my parcel?"}})
    body = get(client, "/v1/insights/kb-gaps")
    assert body["signals"] >= 4
    gaps = [g for g in body["gaps"] if "gift" in g["title"].lower()]
    assert len(gaps) == 1, body
    gap = gaps[0]
    assert gap["size"] == 4 and gap["rejected"] == 1 and gap["edited"] == 3
    assert gap["facts"][0].lower().startswith("gift wrapping costs 3 euros per item")
    assert not any(f.lower().startswith(("hi", "hello", "kind regards")) for f in gap["facts"])
    article = gap["article"]
    assert article["id"].startswith("drafts/") and "Gift wrapping costs 3 euros" in article["text"]
    # The draft is publishable as it stands.
    put = client.put(
        f"/v1/kb/documents/{article['id']}",
        json={"title": article["title"], "text": article["text"]},
    )
    assert put.status_code in {200, 201}, put.text
