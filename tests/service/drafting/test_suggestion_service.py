"""Retrieval, the answerability gate and the holding reply."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from kb_index.document_loader import load_documents
from kb_index.documents import DocumentHit, SearchFilters
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
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


class RecordingEncoder:
    """The hashing encoder, remembering every text it was asked to encode."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        self.seen.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size)


def test_triages_focus_text_and_vector_are_the_search(hashing_encoder: Encoder) -> None:
    """An e-mail is searched with what triage read of it (no quoted thread), and the
    vector triage computed is reused: drafting encodes nothing of the message."""
    encoder = RecordingEncoder(hashing_encoder)
    kb = KnowledgeBase(encoder=encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    service = make_service(kb)
    focus = "How long does a refund take?"
    email = (
        f"Hello,\n\n{focus}\n\nThanks, Ana\n\n"
        "On Monday support wrote:\n> Do you ship to Norway? We deliver to Norway in 5 days."
    )
    plain = service.check(DraftRequest(text=focus))
    encoder.seen.clear()
    vector = hashing_encoder.encode([focus])[0]
    request = DraftRequest(text=email, focus_text=focus, focus_vector=vector)
    reused = service.check(request)
    assert [p.doc_id for p in reused.passages] == [p.doc_id for p in plain.passages]
    assert reused.relevance == pytest.approx(plain.relevance)
    assert focus not in encoder.seen and email not in encoder.seen
    # Without triage's focus, the whole message is encoded and searched.
    service.check(DraftRequest(text=email))
    assert email in encoder.seen
