"""Articles the help centre names for an intent, and whole short articles as passages."""

from __future__ import annotations

import pytest

from kb_index.documents import KbDocument
from kb_index.knowledge_base import KnowledgeBase
from service.drafting.draft_request import DraftRequest
from service.drafting.passage_text import split_sentences
from service.drafting.suggestion_service import intent_tag
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.service.drafting.conftest import make_service

SHIPPING = KbDocument(
    id="shipping-abroad",
    title="Delivering abroad",
    text=(
        "# Delivering abroad\n\n"
        "We deliver to every EU country. We do not ship to addresses outside Europe.\n\n"
        "## Customs\n\n"
        "Import duties for Norway are paid by the recipient when the parcel arrives.\n"
    ),
    tags=("delivery", intent_tag("delivery_options")),
)
GIFT_CARDS = KbDocument(
    id="gift-cards",
    title="Gift cards",
    text=(
        "# Gift cards\n\n"
        "A gift card from Mexico City can be ordered in our shop and is valid for a year.\n"
    ),
    tags=("payments",),
)
INTERNAL = KbDocument(
    id="agent-shipping",
    title="Agent guide: shipping exceptions",
    text="# Agent guide\n\nAgents may approve a shipment outside Europe for a VIP customer.\n",
    tags=(intent_tag("delivery_options"),),
    visibility="internal",
)
QUESTION = "is it possible to order from Mexico?"


@pytest.fixture(scope="module")
def shop() -> KnowledgeBase:
    kb = KnowledgeBase(encoder=HashingEncoder(128))
    kb.upsert([SHIPPING, GIFT_CARDS, INTERNAL])
    return kb


def test_without_an_intent_a_strict_gate_holds_the_message(shop: KnowledgeBase) -> None:
    strict = make_service(shop, drafts_min_relevance=0.99)
    result = strict.suggest(DraftRequest(text=QUESTION))
    assert result.needs_agent


def test_an_intent_article_answers_a_message_similarity_alone_would_hold(
    shop: KnowledgeBase,
) -> None:
    strict = make_service(shop, drafts_min_relevance=0.99)
    result = strict.suggest(
        DraftRequest(text=QUESTION, intent="delivery_options", intent_confidence=0.97)
    )
    assert not result.needs_agent
    first = result.drafts[0]
    assert first.grounded
    assert [c.doc_id for c in first.citations] == ["shipping-abroad"]
    # The untagged article matched but failed the gate: it is never quoted.
    assert all(c.doc_id != "gift-cards" for d in result.drafts for c in d.citations)
    # Internal guides stay internal even when tagged for the intent.
    assert "agent-shipping" not in result.doc_ids
    # Confidence follows the intent, not the weak similarity.
    assert first.confidence > 0.5


def test_an_ambiguous_intent_does_not_pick_articles(shop: KnowledgeBase) -> None:
    strict = make_service(shop, drafts_min_relevance=0.99)
    result = strict.suggest(
        DraftRequest(text=QUESTION, intent="delivery_options", intent_ambiguous=True)
    )
    assert result.needs_agent


def test_an_intent_without_tagged_articles_changes_nothing(shop: KnowledgeBase) -> None:
    strict = make_service(shop, drafts_min_relevance=0.99)
    result = strict.suggest(DraftRequest(text=QUESTION, intent="newsletter_subscription"))
    assert result.needs_agent


def test_the_intent_draft_comes_first_even_when_another_article_matches_better(
    shop: KnowledgeBase,
) -> None:
    lenient = make_service(shop, drafts_min_relevance=-1.0)
    request = DraftRequest(
        text="gift card Mexico City order", intent="delivery_options", intent_confidence=0.9
    )
    result = lenient.suggest(request)
    assert {c.doc_id for c in result.drafts[0].citations} == {"shipping-abroad"}
    assert any(c.doc_id == "gift-cards" for d in result.drafts for c in d.citations)


def test_a_short_article_is_offered_whole_a_long_one_as_its_passage(
    shop: KnowledgeBase,
) -> None:
    whole = make_service(shop, drafts_min_relevance=-1.0)
    found = whole.check(DraftRequest(text="import duties Norway customs"))
    by_doc = {p.doc_id: p for p in found.passages}
    assert by_doc["shipping-abroad"].text == SHIPPING.text
    texts = {s.sentence.text for s in found.scored.sentences}
    assert "We do not ship to addresses outside Europe." in texts

    whole.article_chars = 20
    chunked = whole.check(DraftRequest(text="import duties Norway customs"))
    passage = {p.doc_id: p for p in chunked.passages}["shipping-abroad"]
    assert passage.text != SHIPPING.text and passage.text in SHIPPING.text
    # How relevant a passage is reads the matched chunk alone, whole article or not,
    # so the gate sees what it was fitted on.
    assert found.scored.passage_relevance == pytest.approx(chunked.scored.passage_relevance)


def test_sentences_know_their_section_and_the_opening_paragraph_gets_the_lead_bonus(
    shop: KnowledgeBase,
) -> None:
    headings = {s.text: s.heading for s in split_sentences(SHIPPING.text)}
    assert headings["We deliver to every EU country."] == "Delivering abroad"
    assert (
        headings["Import duties for Norway are paid by the recipient when the parcel arrives."]
        == "Customs"
    )
    service = make_service(shop, drafts_min_relevance=-1.0)
    request = DraftRequest(text="import duties Norway customs")
    service.selector.lead_bonus = 0.0
    plain = {s.text: s.score for s in service.check(request).scored.sentences}
    service.selector.lead_bonus = 0.5
    boosted = {s.text: s.score for s in service.check(request).scored.sentences}
    lead = "We deliver to every EU country."
    body = "Import duties for Norway are paid by the recipient when the parcel arrives."
    assert boosted[lead] == pytest.approx(plain[lead] + 0.5)
    assert boosted[body] == pytest.approx(plain[body])
