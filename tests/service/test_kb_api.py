"""The /v1/kb routes over real HTTP (TestClient) and a real index folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_index.documents import KbDocument
from kb_index.knowledge_base import KnowledgeBase
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.errors import ArtifactError
from service.database import Database
from service.kb_rebuild import open_shared_knowledge_base
from service.main import create_app
from service.resources import Resources
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, kb_index_dir=tmp_path / "kb_index")


@pytest.fixture
def client(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[TestClient]:
    """The full app on the tiny models, with a knowledge base of this test's own."""
    with (
        build_tiny_resources(tmp_path) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as test_client,
    ):
        yield test_client


ARTICLE = {
    "title": "Gift wrapping",
    "text": "# Gift wrapping\n\nWe wrap any order for 3.50 euro.\n\n## Messages\n\n"
    "Add a card with a personal message of up to 200 characters.",
    "url": "https://help.example/gift-wrapping",
    "tags": ["orders", "gifts"],
}


def test_service_seeds_the_sample_help_centre_and_searches_it(client: TestClient) -> None:
    listing = client.get("/v1/kb/documents", params={"limit": 5}).json()
    assert listing["total"] >= 30 and len(listing["items"]) == 5
    response = client.post("/v1/kb/search", json={"query": "how do I track my parcel", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    assert set(results[0]) == {"doc_id", "title", "url", "score", "snippet", "heading"}


def test_put_get_list_delete_round_trip(client: TestClient) -> None:
    created = client.put("/v1/kb/documents/faq/gift-wrapping", json=ARTICLE)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "created" and created.json()["chunks"] >= 1
    assert client.put("/v1/kb/documents/faq/gift-wrapping", json=ARTICLE).json()["status"] == (
        "unchanged"
    )
    changed = {**ARTICLE, "text": ARTICLE["text"].replace("3.50", "4.00")}
    updated = client.put("/v1/kb/documents/faq/gift-wrapping", json=changed)
    assert updated.status_code == 200 and updated.json()["status"] == "updated"

    document = client.get("/v1/kb/documents/faq/gift-wrapping").json()
    assert document["id"] == "faq/gift-wrapping" and "4.00 euro" in document["text"]
    assert document["tags"] == ["orders", "gifts"] and document["visibility"] == "public"

    hits = client.post(
        "/v1/kb/search",
        json={"query": "personal message card gift wrap", "k": 1, "filters": {"tags": ["gifts"]}},
    ).json()["results"]
    assert hits[0]["doc_id"] == "faq/gift-wrapping"
    assert hits[0]["url"] == "https://help.example/gift-wrapping"

    assert client.get("/readyz").json()["versions"]["kb_index"] == updated.json()["kb_version"]
    assert client.delete("/v1/kb/documents/faq/gift-wrapping").status_code == 204
    assert client.get("/v1/kb/documents/faq/gift-wrapping").status_code == 404


def test_visibility_filter_hides_internal_articles(client: TestClient) -> None:
    query = {"query": "goodwill approval limits for agents", "k": 10}
    everything = client.post("/v1/kb/search", json=query).json()["results"]
    assert everything[0]["doc_id"] == "int-goodwill-credits"
    public = client.post(
        "/v1/kb/search", json={**query, "filters": {"visibility": ["public"]}}
    ).json()["results"]
    assert public and all(not r["doc_id"].startswith("int-") for r in public)


def test_html_documents_are_flattened_before_indexing(client: TestClient) -> None:
    body = {
        "title": "Store hours",
        "text": "<h1>Store hours</h1><p>Our showroom opens at 10:00.</p><script>x()</script>",
        "format": "html",
    }
    assert client.put("/v1/kb/documents/store-hours", json=body).status_code == 201
    text = client.get("/v1/kb/documents/store-hours").json()["text"]
    assert "showroom opens at 10:00" in text and "x()" not in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "refund", "k": 0}, "k"),
        ({"query": "refund", "k": 101}, "k"),
        ({"query": "refund", "filters": {"visibility": ["secret"]}}, "filters.visibility.0"),
        ({"query": "refund", "colour": "red"}, "colour"),
    ],
)
def test_search_rejects_bad_input_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/kb/search", json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_unknown_documents_are_404(client: TestClient) -> None:
    for method in ("get", "delete"):
        response = client.request(method, "/v1/kb/documents/no-such-article")
        assert response.status_code == 404
        assert "no-such-article" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/kb/documents/ok-id", {**ARTICLE, "title": " "}, "title"),
        ("/v1/kb/documents/ok-id", {**ARTICLE, "text": ""}, "text"),
        ("/v1/kb/documents/ok-id", {**ARTICLE, "visibility": "secret"}, "visibility"),
        ("/v1/kb/documents/ok-id", {**ARTICLE, "text": "Gift\x00wrap"}, "text"),
        ("/v1/kb/documents/-bad id", ARTICLE, "path.doc_id"),
    ],
)
def test_put_rejects_bad_documents_naming_the_field(
    client: TestClient, path: str, body: dict[str, object], field: str
) -> None:
    response = client.put(path, json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_listing_rejects_a_bad_page(client: TestClient) -> None:
    response = client.get("/v1/kb/documents", params={"limit": 0})
    assert response.status_code == 422
    assert "query.limit" in [e["field"] for e in response.json()["errors"]]


def _open(settings: Settings, encoder: HashingEncoder) -> SharedKnowledgeBase:
    database = Database(settings.resolved_database_url)
    database.migrate()
    return open_shared_knowledge_base(settings, database=database, encoder=encoder, follow=False)


def test_startup_imports_an_index_folder_once(
    settings: Settings, hashing_encoder: HashingEncoder
) -> None:
    KnowledgeBase.open(settings.resolved_kb_index_dir, encoder=hashing_encoder).upsert(
        [KbDocument(id="a", title="A", text="Some text about parcels.")]
    )
    kb = _open(settings, hashing_encoder)
    assert sorted(kb.state.documents) == ["a"]
    assert [r.actor for r in kb.history("a")] == ["system:import"]
    kb.delete(["a"], actor="alice")
    # A second start (another worker, a restart) does not import the folder again.
    assert _open(settings, hashing_encoder).is_empty


def test_startup_refuses_a_corrupt_index_folder(
    settings: Settings, hashing_encoder: HashingEncoder
) -> None:
    kb = KnowledgeBase.open(settings.resolved_kb_index_dir, encoder=hashing_encoder)
    kb.upsert([KbDocument(id="a", title="A", text="Some text.")])
    documents = settings.resolved_kb_index_dir / "documents.jsonl"
    documents.write_bytes(documents.read_bytes()[:-16])
    with pytest.raises(ArtifactError, match="checksum"):
        _open(settings, hashing_encoder)


def test_an_index_folder_from_another_encoder_is_imported_and_re_embedded(
    settings: Settings, hashing_encoder: HashingEncoder
) -> None:
    KnowledgeBase.open(settings.resolved_kb_index_dir, encoder=hashing_encoder).upsert(
        [KbDocument(id="a", title="Parcels", text="Some text about parcels.")]
    )
    kb = _open(settings, HashingEncoder(model_id="test/another"))
    assert kb.search("parcels", k=1)[0].doc_id == "a"


def test_seeding_can_be_switched_off(tmp_path: Path, hashing_encoder: HashingEncoder) -> None:
    settings = Settings(data_dir=tmp_path, kb_seed_sample=False)
    assert _open(settings, hashing_encoder).is_empty
