"""Upserts, deletes, listing, filters and grouped results of the knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from kb_index.dense_retriever import DenseConfig
from kb_index.documents import KbDocument, SearchFilters
from kb_index.knowledge_base import KnowledgeBase
from kb_index.protocols import Retriever
from models.errors import InvalidInputError, NotFoundError
from tests.fixtures.hashing_encoder import HashingEncoder


class CountingEncoder(HashingEncoder):
    """The hashing encoder, counting how many texts it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        self.texts_encoded += len(texts)
        return super().encode(texts, batch_size=batch_size)


def test_knowledge_base_is_a_retriever(kb: KnowledgeBase) -> None:
    assert isinstance(kb, Retriever)
    hits = kb.retrieve("how long do I have to return an item", k=2)
    assert hits[0].doc_id == "returns"


def test_results_are_grouped_per_document_with_citation_data(kb: KnowledgeBase) -> None:
    hits = kb.retrieve("return costs for other EU countries", k=4)
    assert len({h.doc_id for h in hits}) == len(hits)
    top = hits[0]
    assert top.doc_id == "returns"
    assert top.title == "Returns" and top.url == "https://help.example/returns"
    assert top.heading == "Return costs"
    document = kb.get("returns")
    assert document.text[top.start : top.end] == top.passage
    assert top.snippet.startswith("Return costs Returns within the Netherlands are free.")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_unchanged_documents_are_skipped_and_changed_ones_replaced(
    index_dir: Path, documents: list[KbDocument]
) -> None:
    encoder = CountingEncoder()
    kb = KnowledgeBase.open(index_dir, encoder=encoder)
    first = kb.upsert(documents)
    assert set(first.added) == {d.id for d in documents}
    embedded = encoder.texts_encoded

    again = kb.upsert(documents)
    assert set(again.unchanged) == {d.id for d in documents} and not again.changed
    assert encoder.texts_encoded == embedded

    changed = replace(documents[2], text="Reset links now expire after 30 minutes.")
    report = kb.upsert([changed, documents[0]])
    assert report.updated == ("password",) and report.unchanged == ("returns",)
    assert report.chunks_embedded == 1
    assert encoder.texts_encoded == embedded + 1
    assert kb.get("password").text == "Reset links now expire after 30 minutes."
    assert kb.retrieve("reset links expire after 30 minutes", k=1)[0].doc_id == "password"
    assert len(kb) == len(documents)


def test_delete_removes_the_document_from_results_and_listing(kb: KnowledgeBase) -> None:
    kb.delete(["returns"])
    with pytest.raises(NotFoundError):
        kb.get("returns")
    assert all(h.doc_id != "returns" for h in kb.retrieve("return items within 30 days", k=5))
    listed, total = kb.list_documents()
    assert total == 3 and "returns" not in [d.id for d in listed]
    with pytest.raises(NotFoundError):
        kb.delete(["returns"])


def test_listing_is_paged_and_ordered_by_id(kb: KnowledgeBase) -> None:
    page, total = kb.list_documents(offset=1, limit=2)
    assert total == 4
    assert [d.id for d in page] == ["goodwill", "password"]
    with pytest.raises(InvalidInputError, match="limit"):
        kb.list_documents(limit=0)


def test_filters_restrict_by_tag_and_visibility(kb: KnowledgeBase) -> None:
    query = "goodwill refund approval"
    assert kb.retrieve(query, k=1)[0].doc_id == "goodwill"
    public = kb.retrieve(query, k=5, filters=SearchFilters(visibility=("public",)))
    assert public and all(h.visibility == "public" for h in public)
    tagged = kb.retrieve(query, k=5, filters=SearchFilters(tags=("delivery", "account")))
    assert {h.doc_id for h in tagged} <= {"delivery", "password"}
    for mode in ("dense", "bm25", "hybrid"):
        internal = kb.search(
            "delivery", k=5, filters=SearchFilters(visibility=("internal",)), mode=mode
        )
        assert all(h.doc_id == "goodwill" for h in internal)
    none = kb.retrieve(query, k=5, filters=SearchFilters(tags=("no-such-tag",)))
    assert none == []


def test_reopened_index_answers_like_the_original(
    kb: KnowledgeBase, index_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    reopened = KnowledgeBase.open(index_dir, encoder=hashing_encoder)
    assert reopened.version == kb.version
    for query in ("express delivery next day", "gift cards cannot be returned", "password"):
        assert reopened.retrieve(query, k=3) == kb.retrieve(query, k=3)


def test_load_rebuilds_the_index_from_stored_vectors_without_embedding(
    kb: KnowledgeBase, index_dir: Path
) -> None:
    encoder = CountingEncoder()
    reopened = KnowledgeBase.open(index_dir, encoder=encoder)
    assert reopened.state.dense.rows == kb.state.dense.rows
    assert encoder.texts_encoded == 0


def test_hnsw_index_supports_upserts_and_deletes_with_tombstones(
    index_dir: Path, hashing_encoder: HashingEncoder, documents: list[KbDocument]
) -> None:
    config = DenseConfig(exact_max_rows=3, compact_dead_fraction=0.9)
    kb = KnowledgeBase.open(index_dir, encoder=hashing_encoder, dense_config=config)
    extra = [
        KbDocument(id=f"extra-{i}", title=f"Extra {i}", text=f"Filler article number {i}.")
        for i in range(8)
    ]
    kb.upsert([*documents, *extra])
    assert kb.state.dense.kind == "hnsw"
    kb.delete(["delivery"])
    assert kb.state.dense.dead_rows > 0
    assert all(h.doc_id != "delivery" for h in kb.search("express delivery", k=10, mode="dense"))
    kb.upsert([replace(documents[1], id="delivery-2")])
    assert kb.search("express delivery next business day", k=1)[0].doc_id == "delivery-2"

    reopened = KnowledgeBase.open(index_dir, encoder=hashing_encoder, dense_config=config)
    assert reopened.state.dense.kind == "hnsw"
    assert reopened.state.dense.dead_rows == kb.state.dense.dead_rows
    assert reopened.retrieve("express delivery", k=3) == kb.retrieve("express delivery", k=3)


def test_many_deletes_compact_the_hnsw_index_from_stored_vectors(
    hashing_encoder: HashingEncoder,
) -> None:
    config = DenseConfig(exact_max_rows=5, compact_dead_fraction=0.25)
    kb = KnowledgeBase(encoder=hashing_encoder, dense_config=config)
    kb.upsert(
        [KbDocument(id=f"d{i}", title=f"Doc {i}", text=f"Article {i} text.") for i in range(20)]
    )
    kb.delete([f"d{i}" for i in range(8)])
    assert kb.state.dense.dead_rows == 0
    assert kb.state.dense.rows == 12
    assert [h.doc_id for h in kb.search("Article 15 text", k=1, mode="dense")] == ["d15"]


@pytest.mark.parametrize(("query", "k"), [("   ", 5), ("refund", 0), ("refund", 101)])
def test_search_rejects_blank_queries_and_k_out_of_range(
    kb: KnowledgeBase, query: str, k: int
) -> None:
    with pytest.raises(InvalidInputError):
        kb.retrieve(query, k=k)


def test_the_same_id_twice_in_one_upsert_is_refused(
    kb: KnowledgeBase, documents: list[KbDocument]
) -> None:
    with pytest.raises(InvalidInputError, match="twice"):
        kb.upsert([documents[0], documents[0]])


def test_empty_knowledge_base_returns_no_results(hashing_encoder: HashingEncoder) -> None:
    assert KnowledgeBase(encoder=hashing_encoder).retrieve("anything", k=3) == []


def test_concurrent_upserts_all_land_and_the_index_stays_loadable(
    index_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    kb = KnowledgeBase.open(index_dir, encoder=hashing_encoder)

    def write(i: int) -> None:
        kb.upsert([KbDocument(id=f"doc-{i}", title=f"Doc {i}", text=f"Body of document {i}.")])
        kb.retrieve(f"document {i}", k=3)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(24)))
    assert len(kb) == 24
    reopened = KnowledgeBase.open(index_dir, encoder=hashing_encoder)
    assert len(reopened) == 24 and reopened.version == kb.version
