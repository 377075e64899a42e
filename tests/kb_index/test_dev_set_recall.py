"""The shipped help centre with the real encoder meets the recall target on the dev set."""

from __future__ import annotations

import pytest

from kb_index.document_loader import load_documents
from kb_index.evaluation import evaluate, load_queries
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import DEV_QUERIES_PATH, SAMPLE_HELP_CENTRE_DIR
from models.protocols import Encoder


@pytest.mark.encoder
def test_hybrid_recall_at_5_on_the_dev_set_is_at_least_095(real_encoder: Encoder) -> None:
    kb = KnowledgeBase(encoder=real_encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    queries = load_queries(DEV_QUERIES_PATH)
    vectors = real_encoder.encode([q.query for q in queries])
    by_query = dict(zip((q.query for q in queries), vectors, strict=True))

    def ranked(mode: str):  # type: ignore[no-untyped-def]
        return lambda query: [
            h.doc_id
            for h in kb.retriever.search(query, k=10, mode=mode, query_vector=by_query[query])
        ]

    hybrid, _ = evaluate(ranked("hybrid"), queries)
    dense, _ = evaluate(ranked("dense"), queries)
    bm25, _ = evaluate(ranked("bm25"), queries)
    assert hybrid["recall@5"] >= 0.95
    for key in ("recall@1", "recall@5", "mrr@10", "ndcg@10"):
        assert hybrid[key] >= max(dense[key], bm25[key]), key
