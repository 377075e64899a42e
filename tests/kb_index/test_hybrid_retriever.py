"""Fusion of dense and BM25 scores: the weighted form spans both retrievers."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.hybrid_retriever import FusionConfig, HybridRetriever
from kb_index.knowledge_base import KnowledgeBase
from models.errors import InvalidInputError
from tests.fixtures.hashing_encoder import HashingEncoder

QUERIES = ("express delivery", "gift cards return", "reset link valid", "team leads approve")


def _retriever(kb: KnowledgeBase, encoder: HashingEncoder, fusion: FusionConfig) -> HybridRetriever:
    return HybridRetriever(lambda: kb.state, encoder=encoder, fusion=fusion)


def test_full_dense_weight_ranks_like_dense_and_zero_like_bm25(
    kb: KnowledgeBase, hashing_encoder: HashingEncoder
) -> None:
    dense_only = _retriever(kb, hashing_encoder, FusionConfig(dense_weight=1.0, title_weight=0))
    bm25_only = _retriever(kb, hashing_encoder, FusionConfig(dense_weight=0.0, title_weight=0))
    for query in QUERIES:
        dense = [h.doc_id for h in kb.search(query, k=4, mode="dense")]
        assert [h.doc_id for h in dense_only.retrieve(query, k=4)] == dense
        bm25 = [h.doc_id for h in kb.search(query, k=4, mode="bm25")]
        assert [h.doc_id for h in bm25_only.retrieve(query, k=4)][: len(bm25)] == bm25


def test_rrf_fusion_returns_documents_from_either_side(
    kb: KnowledgeBase, hashing_encoder: HashingEncoder
) -> None:
    rrf = _retriever(kb, hashing_encoder, FusionConfig(method="rrf"))
    hits = rrf.retrieve("express delivery next business day", k=2)
    assert hits[0].doc_id == "delivery"
    assert hits[0].score > hits[1].score


def test_title_matching_lifts_documents_whose_title_holds_the_query_words(
    tmp_path: Path, hashing_encoder: HashingEncoder
) -> None:
    from kb_index.documents import KbDocument

    kb = KnowledgeBase(encoder=hashing_encoder)
    kb.upsert(
        [
            KbDocument(id="a", title="Gift cards", text="Valid two years, usable online."),
            KbDocument(id="b", title="Payments", text="We take cards. Gift cards too, gift cards."),
        ]
    )
    plain = _retriever(kb, hashing_encoder, FusionConfig(dense_weight=0.0, title_weight=0.0))
    titled = _retriever(kb, hashing_encoder, FusionConfig(dense_weight=0.0, title_weight=1.0))
    assert plain.retrieve("gift cards", k=1)[0].doc_id == "b"
    assert titled.retrieve("gift cards", k=1)[0].doc_id == "a"


def test_unknown_mode_is_rejected(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="mode"):
        kb.search("refund", mode="semantic")  # type: ignore[arg-type]


def test_fusion_config_validates_its_numbers() -> None:
    with pytest.raises(InvalidInputError, match="dense_weight"):
        FusionConfig(dense_weight=1.5)
