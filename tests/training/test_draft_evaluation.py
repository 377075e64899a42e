"""The draft evaluation's fixed inputs and its scoring on a few real Bitext messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.document_loader import load_documents
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.service.drafting.conftest import make_service
from training.draft_evaluation import (
    SUGGEST_INTENTS,
    evaluate_drafts,
    fill_slots,
    read_bitext,
    read_topics,
    summarise,
    write_report,
)


def test_every_evaluated_intent_maps_to_existing_public_articles() -> None:
    topics = read_topics()
    public = {d.id for d in load_documents([SAMPLE_HELP_CENTRE_DIR]) if d.visibility == "public"}
    assert set(SUGGEST_INTENTS) <= set(topics)
    for intent in SUGGEST_INTENTS:
        assert topics[intent] and topics[intent] <= public


def test_slots_read_as_the_words_they_name() -> None:
    assert fill_slots("Order {{Order Number}} is late") == "Order order number is late"


@pytest.mark.data
def test_evaluation_scores_and_reports_a_small_sample(shared_data: Path, tmp_path: Path) -> None:
    from kb_index.knowledge_base import KnowledgeBase

    encoder = HashingEncoder(128)
    kb = KnowledgeBase(encoder=encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    messages = read_bitext(
        shared_data / "bitext_customer_support.csv", intents=SUGGEST_INTENTS, per_intent=2
    )
    assert [m.intent for m in messages] == [i for i in SUGGEST_INTENTS for _ in range(2)]
    results = evaluate_drafts(make_service(kb), messages, topics=read_topics(), encoder=encoder)
    summary = summarise(results)
    overall = summary["overall"]
    assert overall["messages"] == 10
    assert 0.0 <= overall["first_draft_on_topic"] <= overall["any_draft_on_topic"] <= 1.0
    assert -1.0 <= overall["cosine_to_reference"] <= 1.0
    assert 0.0 <= overall["rouge_l_f1"] <= 1.0
    report = write_report(results, summary, tmp_path / "report", context={"data": "sample"})
    text = report.read_text(encoding="utf-8")
    assert "| **all** |" in text and "### complaint" in text


@pytest.mark.data
def test_the_intent_given_to_drafting_is_what_the_evaluation_reports(shared_data: Path) -> None:
    from kb_index.knowledge_base import KnowledgeBase
    from training.draft_evaluation import IntentGuess, gold_intent

    encoder = HashingEncoder(128)
    kb = KnowledgeBase(encoder=encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    messages = read_bitext(
        shared_data / "bitext_customer_support.csv", intents=SUGGEST_INTENTS, per_intent=2
    )
    strict = make_service(kb, drafts_min_relevance=0.99)
    topics = read_topics()
    told = summarise(
        evaluate_drafts(strict, messages, topics=topics, encoder=encoder, intent_of=gold_intent)
    )["overall"]
    # Every evaluated intent has tagged articles, so a known intent always gets drafts.
    assert told["intent_seen_correct"] == 1.0 and told["answered"] == 1.0
    blind = summarise(
        evaluate_drafts(
            strict,
            messages,
            topics=topics,
            encoder=encoder,
            intent_of=lambda message: IntentGuess(None),
        )
    )["overall"]
    assert blind["intent_seen_correct"] == 0.0 and blind["answered"] == 0.0
