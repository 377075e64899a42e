"""The knowledge base in the database: two workers (two instances on one database) see
each other's writes, concurrent writes lose nothing, history and restore; SQLite and
PostgreSQL. Also the history/restore routes over the real app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_index.documents import KbDocument
from kb_index.kb_change_waiter import PgNotifyWaiter, build_change_waiter
from kb_index.kb_document_store import KbDocumentStore
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.errors import InvalidInputError, NotFoundError
from service.database import Database
from service.main import create_app
from service.resources import Resources
from service.settings import ApiKeyEntry, Settings
from tests.fixtures.hashing_encoder import HashingEncoder


def _doc(doc_id: str, text: str = "Parcels leave our warehouse within two days.") -> KbDocument:
    return KbDocument(id=doc_id, title=f"Article {doc_id}", text=text)


def _wait_for(condition: Callable[[], bool], *, deadline_s: float = 20.0) -> bool:
    """Polls ``condition``; a generous deadline only guards against hanging forever."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_write_through_one_worker_is_found_through_the_other(
    workers: Callable[[], SharedKnowledgeBase],
) -> None:
    one, two = workers(), workers()
    one.upsert([_doc("gift-wrap", "We wrap presents in recycled paper for free.")], actor="a")
    # The writer answers after the commit and sees its own write at once.
    assert one.search("wrap presents recycled paper", k=1)[0].doc_id == "gift-wrap"
    assert _wait_for(lambda: "gift-wrap" in two.state.documents)
    assert two.search("wrap presents recycled paper", k=1)[0].doc_id == "gift-wrap"
    two.delete(["gift-wrap"], actor="b")
    assert _wait_for(lambda: "gift-wrap" not in one.state.documents)
    assert _wait_for(lambda: one.synced_version == two.synced_version)
    assert one.version == two.version


def test_concurrent_writes_from_two_workers_lose_nothing(
    workers: Callable[[], SharedKnowledgeBase],
) -> None:
    one, two = workers(), workers()
    errors: list[BaseException] = []

    def write(kb: SharedKnowledgeBase, prefix: str) -> None:
        try:
            for i in range(15):
                kb.upsert([_doc(f"{prefix}-{i}", f"Article {prefix} number {i}.")], actor=prefix)
                # Both also rewrite one shared article: every version lands in its history.
                kb.upsert([_doc("shared", f"Shared text by {prefix}, round {i}.")], actor=prefix)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(kb, p)) for kb, p in ((one, "a"), (two, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = {f"{p}-{i}" for p in "ab" for i in range(15)} | {"shared"}
    assert _wait_for(lambda: set(one.state.documents) == set(two.state.documents) == expected)
    # Both converge on the newest write (the shared article's last rewrite included).
    newest = one.store.version()
    assert _wait_for(lambda: one.synced_version == two.synced_version == newest)
    assert one.version == two.version
    assert one.get("shared") == two.get("shared") == one.store.load(["shared"])["shared"].document
    assert set(one.store.load()) == expected
    history = one.history("shared")
    assert len(history) == 30 and {r.actor for r in history} == {"a", "b"}
    assert [r.revision for r in history] == list(range(1, 31))
    # The index has exactly one live copy of each article's chunks.
    assert one.state.chunk_count == sum(len(one.chunks(d)) for d in expected)


def test_history_and_restore(workers: Callable[[], SharedKnowledgeBase]) -> None:
    kb = workers()
    kb.upsert([_doc("returns", "Returns are free within 30 days.")], actor="alice")
    kb.upsert([_doc("returns", "Returns cost 5 euro.")], actor="mallory")
    kb.delete(["returns"], actor="mallory")
    with pytest.raises(NotFoundError):
        kb.get("returns")
    report = kb.restore("returns", 1, actor="alice")
    assert report.added == ("returns",)
    assert kb.get("returns").text == "Returns are free within 30 days."
    history = kb.history("returns")
    assert [(r.revision, r.action, r.actor) for r in history] == [
        (1, "put", "alice"),
        (2, "put", "mallory"),
        (3, "delete", "mallory"),
        (4, "restore", "alice"),
    ]
    assert history[3].restored_from == 1 and history[2].document is None
    with pytest.raises(InvalidInputError, match="deletion"):
        kb.restore("returns", 3)
    with pytest.raises(NotFoundError):
        kb.restore("returns", 9)
    with pytest.raises(NotFoundError):
        kb.history("never-existed")


def test_an_unchanged_write_makes_no_revision(workers: Callable[[], SharedKnowledgeBase]) -> None:
    kb = workers()
    kb.upsert([_doc("x")])
    version = kb.store.version()
    assert kb.upsert([_doc("x")]).unchanged == ("x",)
    assert kb.store.version() == version and len(kb.history("x")) == 1


def test_a_failed_delete_writes_nothing(workers: Callable[[], SharedKnowledgeBase]) -> None:
    kb = workers()
    kb.upsert([_doc("x")])
    with pytest.raises(NotFoundError):
        kb.delete(["x", "missing"])
    assert "x" in kb.store.load() and len(kb.history("x")) == 1


@pytest.fixture
def client(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[TestClient]:
    with (
        build_tiny_resources(tmp_path, kb_seed_sample=False) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as test_client,
    ):
        yield test_client


ARTICLE = {"title": "Gift wrapping", "text": "We wrap any order for 3.50 euro."}


def test_history_and_restore_routes(client: TestClient) -> None:
    path = "/v1/kb/documents/faq/gift-wrapping"
    assert client.put(path, json=ARTICLE).status_code == 201
    assert client.put(path, json={**ARTICLE, "text": "We wrap for 4 euro."}).status_code == 200
    assert client.delete(path).status_code == 204
    history = client.get(f"{path}/history")
    assert history.status_code == 200, history.text
    revisions = history.json()["revisions"]
    assert [r["action"] for r in revisions] == ["put", "put", "delete"]
    assert revisions[0]["document"]["text"] == ARTICLE["text"] and revisions[2]["document"] is None
    restored = client.post(f"{path}/restore", json={"revision": 1})
    assert restored.status_code == 201 and restored.json()["status"] == "created"
    assert client.get(path).json()["text"] == ARTICLE["text"]
    assert client.get(f"{path}/history").json()["revisions"][-1]["restored_from"] == 1


@pytest.mark.parametrize(
    ("suffix", "body", "status", "field"),
    [
        ("faq/none/history", None, 404, None),
        ("faq/none/restore", {"revision": 1}, 404, None),
        ("faq/x/restore", {"revision": 0}, 422, "revision"),
        ("faq/x/restore", {"revision": "one"}, 422, "revision"),
        ("faq/x/restore", {}, 422, "revision"),
    ],
)
def test_history_and_restore_reject_bad_requests(
    client: TestClient, suffix: str, body: dict[str, object] | None, status: int, field: str | None
) -> None:
    url = f"/v1/kb/documents/{suffix}"
    response = client.get(url) if body is None else client.post(url, json=body)
    assert response.status_code == status, response.text
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.integration
def test_postgres_writes_are_announced_to_listeners(postgres_database: Database) -> None:
    waiter = build_change_waiter(postgres_database.engine)
    assert isinstance(waiter, PgNotifyWaiter)
    try:
        assert waiter.wait(0.05) is False  # connects and listens; nothing announced yet
        kb = SharedKnowledgeBase(
            encoder=HashingEncoder(), store=KbDocumentStore(postgres_database.engine)
        )
        kb.upsert([_doc("announced")])
        assert waiter.wait(20.0) is True
    finally:
        waiter.close()


def test_history_names_the_key_that_wrote_and_scopes_guard_the_routes(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> None:
    keys = [
        ApiKeyEntry.model_validate(
            {"name": "alice-editor", "key": "alice-key-0123456789", "scopes": ["kb:write"]}
        ),
        ApiKeyEntry.model_validate(
            {"name": "reader", "key": "reader-key-0123456789", "scopes": ["kb:read"]}
        ),
    ]
    with build_tiny_resources(tmp_path, kb_seed_sample=False) as resources:
        settings = Settings(**{**resources.settings.model_dump(), "api_keys": keys})
        with TestClient(create_app(settings, resources=resources)) as client:
            alice = {"Authorization": "Bearer alice-key-0123456789"}
            reader = {"X-API-Key": "reader-key-0123456789"}
            path = "/v1/kb/documents/faq/audited"
            assert client.put(path, json=ARTICLE, headers=alice).status_code == 201
            assert client.put(path, json=ARTICLE, headers=reader).status_code == 403
            history = client.get(f"{path}/history", headers=reader)
            assert history.status_code == 200
            assert [r["actor"] for r in history.json()["revisions"]] == ["alice-editor"]
            restore = client.post(f"{path}/restore", json={"revision": 1}, headers=reader)
            assert restore.status_code == 403
            assert client.get(f"{path}/history").status_code == 401
            assert client.post("/v1/kb/reindex", headers=alice).status_code == 403
            assert client.get(f"/v1/jobs/{'0' * 32}", headers=alice).status_code == 403


def test_a_document_id_ending_in_history_is_refused(client: TestClient) -> None:
    """``GET /v1/kb/documents/a/history`` is the history of ``a``: a document called
    ``a/history`` could never be read back, so it cannot be created."""
    response = client.put("/v1/kb/documents/faq/history", json=ARTICLE)
    assert response.status_code == 422, response.text
    assert "history" in response.text and response.json()["errors"][0]["field"] == "path.doc_id"
    assert client.put("/v1/kb/documents/faq/history-of-orders", json=ARTICLE).status_code == 201
