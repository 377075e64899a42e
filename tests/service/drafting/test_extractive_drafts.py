"""The default drafter: grounded sentences, tone, channel forms (hashing-encoder KB)."""

from __future__ import annotations

import re

import pytest

from kb_index.knowledge_base import KnowledgeBase
from models.triager import ConversationTurn
from service.drafting.draft import Draft, DraftSet
from service.drafting.draft_request import DraftRequest
from service.drafting.passage_text import plain_text
from service.drafting.reply_composer import SOCIAL_LIMIT
from service.drafting.suggestion_service import SuggestionService

REFUND = DraftRequest(
    text="How long does a refund take to reach my card after you receive the return?",
    customer_name="Jane Doe",
    intent="check_refund_policy",
    sentiment="neutral",
    urgency="normal",
)
PERSONAL = (
    "My order #4411829 never arrived, I paid with my card and my email is "
    "jane@example.com. How long does a refund take?"
)


def passage_of(kb: KnowledgeBase, chunk_id: str) -> str:
    """The stored text a passage id names: a chunk, or a whole (short) article."""
    if "#" not in chunk_id:
        return plain_text(kb.get(chunk_id).text)
    doc_id = chunk_id.rsplit("#", 1)[0]
    [chunk] = [c for c in kb.chunks(doc_id) if c.chunk_id == chunk_id]
    return plain_text(chunk.text)


def assert_grounded(draft: Draft, kb: KnowledgeBase) -> None:
    cited = {c.doc_id for c in draft.citations}
    answers = draft.answer_sentences
    assert answers, "a grounded draft states at least one fact"
    for sentence in answers:
        assert sentence.doc_id in cited
        assert sentence.chunk_id is not None
        assert sentence.text in passage_of(kb, sentence.chunk_id)
        assert sentence.text in draft.text


def test_every_answer_sentence_is_quoted_from_a_cited_passage(
    drafter: SuggestionService, help_centre: KnowledgeBase
) -> None:
    result = drafter.suggest(REFUND)
    assert not result.needs_agent
    assert 1 <= len(result.drafts) <= 3
    for draft in result.drafts:
        assert draft.grounded
        assert_grounded(draft, help_centre)
        assert len(draft.answer_sentences) <= 3
        assert 0.0 < draft.confidence <= 1.0


def test_drafts_have_unique_ids_no_placeholders_and_no_repeated_sentences(
    drafter: SuggestionService,
) -> None:
    result = drafter.suggest(REFUND)
    ids = [d.id for d in result.drafts]
    assert len(set(ids)) == len(ids) and all(i.startswith(f"{result.id}-") for i in ids)
    texts = [d.text for d in result.drafts]
    assert len(set(texts)) == len(texts)
    for draft in result.drafts:
        assert not re.search(r"[{}]|\[\w+\]", draft.text)
        said = [s.text for s in draft.sentences]
        assert len(set(said)) == len(said)
    assert [d.confidence for d in result.drafts] == sorted(
        (d.confidence for d in result.drafts), reverse=True
    )


def test_email_is_a_complete_letter_with_the_customers_name(drafter: SuggestionService) -> None:
    draft = drafter.suggest(REFUND).drafts[0]
    assert draft.text.startswith("Hi Jane,\n\n")
    assert draft.text.endswith("Kind regards,\nThe Customer Care team")
    roles = [s.role for s in draft.sentences]
    assert roles[0] == "greeting" and roles[-1] == "sign_off"
    assert "answer" in roles and "next_step" in roles


def test_complaint_gets_an_apology_and_no_cheer(drafter: SuggestionService) -> None:
    request = DraftRequest(
        text="I want to make a formal complaint, your service has been terrible",
        intent="complaint",
        sentiment="negative",
    )
    draft = drafter.suggest(request).drafts[0]
    assert "sorry" in draft.text.lower()
    assert "!" not in draft.text
    assert draft.text.startswith("Hello,")


def test_urgent_message_is_acknowledged_as_urgent(drafter: SuggestionService) -> None:
    request = DraftRequest(text="How do I change my delivery address?", urgency="high")
    assert "urgent" in drafter.suggest(request).drafts[0].text


@pytest.mark.parametrize("channel", ["chat", "phone"])
def test_chat_and_phone_are_a_few_sentences_without_a_letter_frame(
    drafter: SuggestionService, channel: str
) -> None:
    request = DraftRequest(
        text=REFUND.text, channel=channel, customer_name="Jane Doe", intent=REFUND.intent
    )
    for draft in drafter.suggest(request).drafts:
        assert "Kind regards" not in draft.text and "\n" not in draft.text
        assert len(draft.answer_sentences) <= 2
        assert len(draft.sentences) <= 5
        if channel == "phone":
            assert "http" not in draft.text


def test_social_reply_fits_a_post_and_shows_no_personal_or_order_data(
    drafter: SuggestionService, help_centre: KnowledgeBase
) -> None:
    request = DraftRequest(
        text=PERSONAL, channel="social", customer_name="Jane Doe", intent="get_refund"
    )
    result = drafter.suggest(request)
    for draft in result.drafts:
        assert len(draft.text) <= SOCIAL_LIMIT
        for private in ("4411829", "jane@example.com", "Jane", "Doe"):
            assert private not in draft.text
        assert "direct message" in draft.text
        if draft.answer_sentences:
            assert_grounded(draft, help_centre)


def test_channels_share_facts_and_citations(drafter: SuggestionService) -> None:
    def first(channel: str) -> Draft:
        request = DraftRequest(text=REFUND.text, channel=channel, intent=REFUND.intent)
        return drafter.suggest(request).drafts[0]

    email = first("email")
    email_facts = {s.text for s in email.answer_sentences}
    email_docs = {c.doc_id for c in email.citations}
    for channel in ("chat", "social", "phone"):
        other = first(channel)
        assert {s.text for s in other.answer_sentences} <= email_facts
        assert {c.doc_id for c in other.citations} <= email_docs


def test_a_sentence_the_agent_already_sent_is_not_offered_again(
    drafter: SuggestionService,
) -> None:
    first: DraftSet = drafter.suggest(REFUND)
    sent = first.drafts[0]
    history = (
        ConversationTurn("customer", REFUND.text),
        ConversationTurn("agent", sent.text),
    )
    again = drafter.suggest(DraftRequest(text=REFUND.text, intent=REFUND.intent, history=history))
    already = {s.text for s in sent.answer_sentences}
    for draft in again.drafts:
        assert not already & {s.text for s in draft.answer_sentences}
