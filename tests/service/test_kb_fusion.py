"""Fusion weights live in the database: chosen on development queries (or set by PUT),
followed by every worker without a restart, carried over from files on the first start,
and what a search through the service ranks by. SQLite and PostgreSQL, real HTTP.

The collection is built so that the shipped weights and the title field alone disagree:
"packaging" says "gift wrapping" three times in its body, "gift-wrapping" only in its title.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb_index.documents import KbDocument
from kb_index.evaluation import EvalQuery
from kb_index.fusion_choice import FusionChoice, QuerySetInfo, read_fusion_file
from kb_index.fusion_selection import FusionEvaluator
from kb_index.hybrid_retriever import FusionConfig
from kb_index.kb_document_store import KbDocumentStore
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from service.database import Database
from service.kb_rebuild import open_shared_knowledge_base
from service.main import create_app
from service.resources import Resources
from service.settings import ApiKeyEntry, Settings
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.service.test_kb_shared import _wait_for

DOCUMENTS = [
    KbDocument(
        id="gift-wrapping",
        title="Gift wrapping",
        text="Presents leave the warehouse in recycled paper with a ribbon and a card.",
    ),
    KbDocument(
        id="packaging",
        title="Packaging and boxes",
        text="Gift wrapping questions: gift wrapping is free, and gift wrapping is chosen at "
        "checkout for each parcel.",
    ),
    KbDocument(id="returns", title="Returns", text="Send items back within 30 days for a refund."),
    KbDocument(
        id="delivery", title="Delivery times", text="Parcels arrive in two to four working days."
    ),
]
#: Development queries on which the title field is the best single retriever.
DEV_QUERIES = [
    EvalQuery("gift wrapping", ("gift-wrapping",)),
    EvalQuery("returns", ("returns",)),
    EvalQuery("delivery times", ("delivery",)),
    EvalQuery("packaging and boxes", ("packaging",)),
    EvalQuery("wrapping a gift", ("gift-wrapping",)),
]
TITLE_ALONE = {
    "dense_weight": 1.0,
    "title_weight": 0.0,
    "title_dense_weight": 1.0,
    "body_weight": 0.0,
}


def _first(kb: SharedKnowledgeBase, query: str) -> str:
    return kb.search(query, k=1)[0].doc_id


def _tune(kb: SharedKnowledgeBase, tmp_path: Path) -> FusionChoice:
    """What `triage kb tune-fusion --queries` does on the service's collection."""
    queries = tmp_path / "dev_queries.jsonl"
    queries.write_text("".join(f'{{"query": "{q.query}"}}\n' for q in DEV_QUERIES))
    selection = FusionEvaluator(kb.retriever, kb.state, DEV_QUERIES).select()
    return FusionChoice.from_selection(
        selection,
        queries=QuerySetInfo.of_file(queries, count=len(DEV_QUERIES)),
        encoder=kb.encoder.model_id,
    )


def test_tuned_weights_reach_every_worker_without_restart(
    workers: Callable[[], SharedKnowledgeBase], tmp_path: Path
) -> None:
    one, two = workers(), workers()
    one.upsert(DOCUMENTS, actor="editor")
    assert _wait_for(lambda: len(two) == len(DOCUMENTS))
    # The shipped weights follow the body: the article that repeats the words wins.
    assert _first(one, "gift wrapping") == _first(two, "gift wrapping") == "packaging"
    assert two.fusion_choice.source == "default"

    choice = _tune(one, tmp_path)
    assert choice.baseline == "title" and choice.figures["hybrid"]["recall@1"] == 1.0
    assert choice.figures["hybrid"]["recall@1"] >= max(
        choice.figures[m]["recall@1"] for m in ("dense", "bm25", "title")
    )
    recorded = one.record_fusion(choice, actor="tuner")
    # The writer searches with them before the call returns; the other worker follows.
    assert _first(one, "gift wrapping") == "gift-wrapping"
    assert _wait_for(lambda: two.fusion_choice.version == recorded.version)
    assert _first(two, "gift wrapping") == "gift-wrapping"
    assert two.retriever.fusion == choice.fusion
    assert (two.fusion_choice.actor, two.fusion_choice.source) == ("tuner", "tune-fusion")
    assert two.fusion_choice.queries == choice.queries
    assert two.fusion_choice.figures == choice.figures
    # The documents are untouched by a weights-only write.
    assert one.version == two.version and len(two.history("packaging")) == 1
    assert [c.actor for c in one.fusion_history()] == ["tuner"]


def test_a_worker_started_later_loads_the_recorded_weights(
    workers: Callable[[], SharedKnowledgeBase], kb_database: Database
) -> None:
    one = workers()
    one.upsert(DOCUMENTS)
    one.record_fusion(FusionChoice(FusionConfig(**TITLE_ALONE), source="api"), actor="ops")
    late = SharedKnowledgeBase(encoder=HashingEncoder(), store=KbDocumentStore(kb_database.engine))
    late.sync()
    assert late.retriever.fusion == FusionConfig(**TITLE_ALONE)
    assert _first(late, "gift wrapping") == "gift-wrapping"


@pytest.fixture
def resources(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[Resources]:
    with build_tiny_resources(tmp_path, kb_seed_sample=False) as built:
        yield built


@pytest.fixture
def client(resources: Resources) -> Iterator[TestClient]:
    with TestClient(create_app(resources.settings, resources=resources)) as test_client:
        yield test_client


def _search_first(client: TestClient, query: str) -> str:
    response = client.post("/v1/kb/search", json={"query": query, "k": 3})
    assert response.status_code == 200, response.text
    doc_id: str = response.json()["results"][0]["doc_id"]
    return doc_id


def _put_documents(client: TestClient) -> None:
    for document in DOCUMENTS:
        body = {"title": document.title, "text": document.text}
        assert client.put(f"/v1/kb/documents/{document.id}", json=body).status_code == 201


def test_weights_tuned_in_another_process_change_what_the_service_ranks_first(
    client: TestClient, resources: Resources, tmp_path: Path
) -> None:
    _put_documents(client)
    assert _search_first(client, "gift wrapping") == "packaging"
    assert client.get("/v1/kb/fusion").json()["source"] == "default"
    # `triage kb tune-fusion` is another process: its own instance on the same database.
    tuner = open_shared_knowledge_base(
        resources.settings, database=resources.database, encoder=HashingEncoder(), follow=False
    )
    tuner.record_fusion(_tune(tuner, tmp_path), actor="system:cli")
    assert _wait_for(lambda: _search_first(client, "gift wrapping") == "gift-wrapping")
    current = client.get("/v1/kb/fusion").json()
    assert current["source"] == "tune-fusion" and current["actor"] == "system:cli"
    assert current["queries"]["name"] == "dev_queries.jsonl" and current["queries"]["count"] == 5
    assert current["figures"]["hybrid"]["recall@1"] >= current["figures"]["title"]["recall@1"]
    assert current["baseline"] == "title" and current["version"] >= 1


def test_put_sets_the_weights_every_search_uses(client: TestClient) -> None:
    _put_documents(client)
    assert _search_first(client, "gift wrapping") == "packaging"
    put = client.put("/v1/kb/fusion", json=TITLE_ALONE)
    assert put.status_code == 200, put.text
    assert put.json()["fusion"] == {**FusionConfig().to_json(), **TITLE_ALONE}
    assert put.json()["source"] == "api" and put.json()["queries"] is None
    assert _search_first(client, "gift wrapping") == "gift-wrapping"
    # What a drafted reply records (and /readyz reports) says which weights found it.
    tuned_version = client.get("/readyz").json()["versions"]["kb_index"]
    assert tuned_version.endswith(f"+fusion-{FusionConfig(**TITLE_ALONE).fingerprint}")
    # An omitted field takes the shipped default: back to the body-led ranking.
    assert client.put("/v1/kb/fusion", json={}).status_code == 200
    assert _search_first(client, "gift wrapping") == "packaging"
    assert client.get("/readyz").json()["versions"]["kb_index"] == tuned_version.split("+")[0]
    history = client.get("/v1/kb/fusion/history").json()["items"]
    assert [h["fusion"]["body_weight"] for h in history] == [0.0, 1.0]
    assert history[-1] == client.get("/v1/kb/fusion").json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dense_weight": 1.5}, "dense_weight"),
        ({"dense_weight": "most"}, "dense_weight"),
        ({"title_weight": -0.1}, "title_weight"),
        ({"method": "sum"}, "method"),
        ({"depth": 0}, "depth"),
        ({"body_weight": 0.0, "title_weight": 0.0}, "body_weight"),
        ({"dense": 0.5}, "dense"),
    ],
)
def test_put_rejects_bad_weights_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.put("/v1/kb/fusion", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/kb/fusion").json()["source"] == "default"


def test_fusion_routes_are_for_operators(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> None:
    keys = [
        ApiKeyEntry.model_validate(
            {"name": "editor", "key": "editor-key-0123456789", "scopes": ["kb:read", "kb:write"]}
        ),
        ApiKeyEntry.model_validate(
            {"name": "ops", "key": "ops-key-0123456789", "scopes": ["admin"]}
        ),
    ]
    with build_tiny_resources(tmp_path, kb_seed_sample=False) as resources:
        settings = Settings(**{**resources.settings.model_dump(), "api_keys": keys})
        with TestClient(create_app(settings, resources=resources)) as client:
            editor = {"X-API-Key": "editor-key-0123456789"}
            ops = {"X-API-Key": "ops-key-0123456789"}
            assert client.get("/v1/kb/fusion").status_code == 401
            assert client.get("/v1/kb/fusion", headers=editor).status_code == 403
            assert client.put("/v1/kb/fusion", json={}, headers=editor).status_code == 403
            put = client.put("/v1/kb/fusion", json=TITLE_ALONE, headers=ops)
            assert put.status_code == 200 and put.json()["actor"] == "ops"
            assert (
                client.get("/v1/kb/fusion/history", headers=ops).json()["items"][0]["actor"]
                == "ops"
            )


def test_first_start_seeds_the_sample_help_centre_with_its_tuned_weights(
    sqlite_database: Database, tmp_path: Path
) -> None:
    shipped = read_fusion_file(SAMPLE_HELP_CENTRE_DIR)
    assert shipped is not None and shipped.source == "tune-fusion"
    assert shipped.figures["hybrid"]["recall@1"] >= max(
        shipped.figures[m]["recall@1"] for m in ("dense", "bm25", "title")
    )
    kb = open_shared_knowledge_base(
        Settings(data_dir=tmp_path),
        database=sqlite_database,
        encoder=HashingEncoder(),
        follow=False,
    )
    assert len(kb) > 10
    assert kb.retriever.fusion == shipped.fusion != FusionConfig()
    assert (kb.fusion_choice.source, kb.fusion_choice.actor) == ("tune-fusion", "system:import")
    assert kb.fusion_choice.queries == shipped.queries
    # Imported once: a second start records nothing more.
    open_shared_knowledge_base(
        Settings(data_dir=tmp_path),
        database=sqlite_database,
        encoder=HashingEncoder(),
        follow=False,
    )
    assert len(kb.fusion_history()) == 1


def test_first_start_carries_an_index_folders_weights_over(
    sqlite_database: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "kb_index"
    legacy = KnowledgeBase(encoder=HashingEncoder(), directory=folder)
    legacy.upsert(DOCUMENTS)
    legacy.record_fusion(FusionChoice(FusionConfig(**TITLE_ALONE), source="api"), actor="old-ops")
    assert KnowledgeBase.open(folder, encoder=HashingEncoder()).fusion_choice.actor == "old-ops"
    kb = open_shared_knowledge_base(
        Settings(data_dir=tmp_path, kb_index_dir=folder),
        database=sqlite_database,
        encoder=HashingEncoder(),
        follow=False,
    )
    assert set(kb.state.documents) == {d.id for d in DOCUMENTS}
    assert kb.retriever.fusion == FusionConfig(**TITLE_ALONE)
    assert (kb.fusion_choice.source, kb.fusion_choice.actor) == ("import", "system:import")
    assert _first(kb, "gift wrapping") == "gift-wrapping"
