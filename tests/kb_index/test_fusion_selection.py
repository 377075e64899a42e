"""Fielded matching and per-collection fusion: the chosen fusion never loses to a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.documents import KbDocument
from kb_index.evaluation import EvalQuery
from kb_index.fusion_selection import SINGLE_MODES, FusionEvaluator, fusion_grid
from kb_index.hybrid_retriever import FusionConfig
from kb_index.knowledge_base import KnowledgeBase
from models.errors import ArtifactError, InvalidInputError
from tests.fixtures.hashing_encoder import HashingEncoder

# A FAQ: the question is the title, the answer the body. Answers share vocabulary on
# purpose, so the body alone confuses entries that the question field tells apart.
FAQ = (
    ("faq-gift", "Can I pay with a gift card?", "Yes. Enter the card code at checkout."),
    ("faq-lost", "My gift card is lost, what now?", "Send us the card code and we block it."),
    ("faq-return", "How do I send an order back?", "Use the return code from your account."),
    ("faq-track", "Where can I follow my parcel?", "The tracking code is in your account."),
)
QUERIES = (
    EvalQuery("pay with gift card", ("faq-gift",)),
    EvalQuery("gift card lost", ("faq-lost",)),
    EvalQuery("send order back", ("faq-return",)),
    EvalQuery("follow my parcel", ("faq-track",)),
    EvalQuery("can i pay with a gift card", ("faq-gift",)),
    EvalQuery("where is my parcel, can i follow it", ("faq-track",)),
)


@pytest.fixture
def faq_kb(tmp_path: Path, hashing_encoder: HashingEncoder) -> KnowledgeBase:
    kb = KnowledgeBase.open(tmp_path / "faq_index", encoder=hashing_encoder)
    kb.upsert([KbDocument(id=i, title=q, text=a) for i, q, a in FAQ])
    return kb


def test_title_mode_ranks_by_the_question_field_alone(faq_kb: KnowledgeBase) -> None:
    hits = faq_kb.search("my gift card is lost", k=4, mode="title")
    assert hits[0].doc_id == "faq-lost"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage  # a title hit still cites a passage of its document


def test_chosen_fusion_is_never_below_any_single_retriever(faq_kb: KnowledgeBase) -> None:
    evaluator = FusionEvaluator(faq_kb.retriever, faq_kb.state, QUERIES)
    selection = evaluator.select()
    assert set(selection.single) == set(SINGLE_MODES)
    for mode, metrics in selection.single.items():
        assert selection.hybrid["recall@1"] >= metrics["recall@1"], mode
    assert selection.candidates == len(fusion_grid())
    # The reported hybrid figure is what searching with the chosen fusion gives.
    assert evaluator.metrics("hybrid", selection.fusion) == selection.hybrid


def test_title_only_point_of_the_grid_ranks_like_title_mode(faq_kb: KnowledgeBase) -> None:
    title_only = FusionConfig(title_weight=0.0, title_dense_weight=1.0, body_weight=0.0)
    for query in QUERIES:
        expected = [h.doc_id for h in faq_kb.search(query.query, k=4, mode="title")]
        faq_kb.retriever.fusion = title_only
        assert [h.doc_id for h in faq_kb.search(query.query, k=4)] == expected


def test_tuned_fusion_is_recorded_and_reopened(
    faq_kb: KnowledgeBase, tmp_path: Path, hashing_encoder: HashingEncoder
) -> None:
    chosen = FusionConfig(dense_weight=0.5, title_weight=0.15, title_dense_weight=0.5)
    faq_kb.use_fusion(chosen)
    reopened = KnowledgeBase.open(tmp_path / "faq_index", encoder=hashing_encoder)
    assert reopened.retriever.fusion == chosen
    explicit = FusionConfig()
    assert (
        KnowledgeBase.open(
            tmp_path / "faq_index", encoder=hashing_encoder, fusion=explicit
        ).retriever.fusion
        == explicit
    )


def test_index_with_an_unknown_fusion_setting_fails_to_open(
    faq_kb: KnowledgeBase, tmp_path: Path, hashing_encoder: HashingEncoder
) -> None:
    import json

    folder = tmp_path / "faq_index"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["params"]["fusion"]["boost_everything"] = 3
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="boost_everything"):
        KnowledgeBase.open(folder, encoder=hashing_encoder)


def test_title_vectors_follow_document_changes(faq_kb: KnowledgeBase) -> None:
    assert faq_kb.search("gift card lost", k=1, mode="title")[0].doc_id == "faq-lost"
    faq_kb.upsert([KbDocument(id="faq-lost", title="Opening hours", text="We open at nine.")])
    assert faq_kb.search("gift card lost", k=1, mode="title")[0].doc_id != "faq-lost"
    assert faq_kb.search("opening hours", k=1, mode="title")[0].doc_id == "faq-lost"


def test_title_mode_respects_filters(faq_kb: KnowledgeBase) -> None:
    from kb_index.documents import SearchFilters

    faq_kb.upsert(
        [
            KbDocument(
                id="faq-internal", title="My gift card is lost", text="x", visibility="internal"
            )
        ]
    )
    hits = faq_kb.search(
        "my gift card is lost", k=5, mode="title", filters=SearchFilters(visibility=("public",))
    )
    assert "faq-internal" not in [h.doc_id for h in hits]
    assert hits[0].doc_id == "faq-lost"


def test_fusion_settings_are_validated() -> None:
    with pytest.raises(InvalidInputError, match="body_weight"):
        FusionConfig(body_weight=2.0)
    with pytest.raises(InvalidInputError, match="title_dense_weight"):
        FusionConfig(title_dense_weight=-1.0)
    with pytest.raises(InvalidInputError, match="unknown"):
        FusionConfig.from_json({"dense_weight": 0.5, "bogus": 1})
    assert FusionConfig.from_json(FusionConfig(body_weight=0.5).to_json()) == FusionConfig(
        body_weight=0.5
    )


def test_empty_query_set_is_rejected(faq_kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        FusionEvaluator(faq_kb.retriever, faq_kb.state, [])
