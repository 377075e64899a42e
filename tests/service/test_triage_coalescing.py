"""Concurrent ``POST /v1/triage`` requests, served together when they wait for a pipeline
thread, get exactly the answers they get one at a time, and each is logged once as a
triaged message (production wiring on the tiny models, over HTTP with TestClient)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.resources import Resources

TEXTS = [
    "Hi, where is my order #4411829? It was due on Monday.",
    "I forgot my password and cannot log in",
    "I want to speak to a human",
    "How long does a refund take?",
    "my card was charged twice for the same order!!! fix this now",
    "Can I change the delivery address of order 4411830?",
    "hello",
    "Someone logged into my account and changed the email, I did not do that",
    "The parcel arrived damaged, the box was crushed. Can I get a replacement?",
    "cancel my subscription please",
    "Do you ship to Norway?",
    "thanks, that solved it :)",
]


@pytest.fixture
def one_thread_app(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[tuple[TestClient, Resources]]:
    """One pipeline thread, so concurrent requests queue and are served together."""
    with (
        build_tiny_resources(tmp_path, pipeline_threads=1, coalesce_max_batch=8) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as client,
    ):
        yield client, resources


def test_concurrent_requests_get_their_own_answers_and_are_each_logged(
    one_thread_app: tuple[TestClient, Resources],
) -> None:
    client, _ = one_thread_app
    alone = [client.post("/v1/triage", json={"text": t}) for t in TEXTS]
    assert all(r.status_code == 200 for r in alone)
    coalescer = client.app.state.triage_coalescer  # type: ignore[attr-defined]
    served_before = coalescer.served

    def post(text: str) -> Any:
        return client.post("/v1/triage", json={"text": text})

    with ThreadPoolExecutor(max_workers=len(TEXTS) * 2) as pool:
        together = list(pool.map(post, TEXTS * 2))
    assert [r.status_code for r in together] == [200] * len(together)
    assert [r.json() for r in together] == [r.json() for r in alone] * 2
    assert coalescer.served - served_before == len(together)

    page = client.get("/v1/messages", params={"source": "triage", "limit": 100}).json()
    assert page["total"] == 3 * len(TEXTS)
    logged = sorted(item["text"] for item in page["items"])
    assert logged == sorted(TEXTS * 3)
