"""Retrieval, the answerability gate and the holding reply."""

from __future__ import annotations

import pytest

from kb_index.documents import DocumentHit, SearchFilters
from kb_index.knowledge_base import KnowledgeBase
from models.errors import UnavailableError
from models.protocols import Encoder
from service.drafting.draft_request import DraftRequest
from service.drafting.suggestion_service import SuggestionService
from tests.service.drafting.conftest import make_service

FACT_WORDS = ("refund", "days", "deliver", "return", "€")


class FailingRetriever:
    """A knowledge base that cannot be searched right now."""

    def retrieve(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        query_vector: object = None,
    ) -> list[DocumentHit]:
        raise UnavailableError("index unavailable")


def assert_holding(result_text: str) -> None:
    lowered = result_text.lower()
    assert not any(word in lowered for word in FACT_WORDS)


def test_nothing_relevant_enough_gives_a_holding_reply_for_an_agent(
    help_centre: KnowledgeBase,
) -> None:
    strict = make_service(help_centre, drafts_min_relevance=0.99)
    result = strict.suggest(
        DraftRequest(text="How long does a refund take?", customer_name="Jane Doe")
    )
    assert result.needs_agent
    [draft] = result.drafts
    assert draft.grounded is False and draft.citations == ()
    assert draft.answer_sentences == ()
    assert draft.text.startswith("Hi Jane,")
    assert_holding(draft.text)
    assert result.generator == "holding"


@pytest.mark.parametrize("channel", ["email", "chat", "social", "phone", "web"])
def test_holding_reply_fits_every_channel(help_centre: KnowledgeBase, channel: str) -> None:
    strict = make_service(help_centre, drafts_min_relevance=0.99)
    result = strict.suggest(
        DraftRequest(text="my parcel is lost", channel=channel, sentiment="negative")
    )
    [draft] = result.drafts
    assert "sorry" in draft.text.lower()
    assert len(draft.text) <= 280 or channel in {"email", "web"}


def test_a_retrieval_outage_is_an_error_not_a_holding_reply(help_centre: KnowledgeBase) -> None:
    # "No answer in the KB" and "the KB is down" must not look alike: the second one is
    # retried by the caller (503), never sent to a customer as "we'll get back to you".
    service = make_service(help_centre)
    broken = SuggestionService(
        retriever=FailingRetriever(),
        selector=service.selector,
        gate=service.gate,
        generator=service.generator,
        composer=service.composer,
    )
    with pytest.raises(UnavailableError, match="index unavailable"):
        broken.suggest(DraftRequest(text="How long does a refund take?"))


def test_an_empty_knowledge_base_gives_a_holding_reply(hashing_encoder: Encoder) -> None:
    empty = make_service(KnowledgeBase(encoder=hashing_encoder))
    result = empty.suggest(DraftRequest(text="How long does a refund take?"))
    assert result.needs_agent and result.passages == ()
    assert_holding(result.drafts[0].text)


def test_internal_agent_guides_are_never_quoted(drafter: SuggestionService) -> None:
    request = DraftRequest(
        text="How do agents escalate a complaint ticket to the complaints queue?",
        intent="complaint",
    )
    result = drafter.suggest(request)
    for draft in result.drafts:
        assert all(not c.doc_id.startswith("int-") for c in draft.citations)
    assert all(not d.startswith("int-") for d in result.doc_ids)


def test_versions_are_recorded_with_the_drafts(
    drafter: SuggestionService, help_centre: KnowledgeBase
) -> None:
    result = drafter.suggest(DraftRequest(text="How long does a refund take?"))
    assert result.versions["kb_index"] == help_centre.version
    assert result.versions["gate"] == "fixed"


@pytest.mark.encoder
def test_shipped_gate_holds_off_topic_messages_and_answers_help_centre_ones(
    real_drafter: SuggestionService,
) -> None:
    drafter = real_drafter
    off_topic = drafter.suggest(DraftRequest(text="what's a good recipe for lasagna tonight?"))
    assert off_topic.needs_agent
    assert_holding(off_topic.drafts[0].text)
    refund = drafter.suggest(
        DraftRequest(text="How long until my refund shows up on my credit card?")
    )
    assert not refund.needs_agent
    assert refund.drafts[0].grounded
    cited = {c.doc_id for d in refund.drafts for c in d.citations}
    assert cited & {"hc-refund-timing", "hc-refund-missing"}
