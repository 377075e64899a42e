"""The OpenAI-compatible generator against a real local server (good, uncited, unknown
citation, slow, broken and malformed replies)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from kb_index.knowledge_base import KnowledgeBase
from service.drafting.draft_request import DraftRequest
from service.drafting.llm_reply_generator import LlmReplyGenerator
from service.drafting.suggestion_service import SuggestionService
from tests.fixtures.chat_completions_server import ChatServer, running_chat_server
from tests.service.drafting.conftest import make_service

pytestmark = pytest.mark.integration

REQUEST = DraftRequest(
    text="Can I get my refund on another card? My email is jane@example.com",
    customer_name="Jane Doe",
    intent="get_refund",
)


@pytest.fixture(scope="module")
def chat_server() -> Iterator[ChatServer]:
    with running_chat_server() as server:
        yield server


@pytest.fixture(scope="module")
def llm_drafter(chat_server: ChatServer, help_centre: KnowledgeBase) -> Iterator[SuggestionService]:
    service = make_service(
        help_centre,
        drafts_generator="openai_chat",
        drafts_llm_base_url=chat_server.base_url,
        drafts_llm_model="test-model",
        drafts_llm_api_key="sk-local-test",
        drafts_llm_timeout_s=0.5,
    )
    yield service
    assert isinstance(service.generator, LlmReplyGenerator)
    service.generator.close()


@pytest.fixture
def server(chat_server: ChatServer) -> Iterator[ChatServer]:
    chat_server.mode = "good"
    chat_server.requests.clear()
    chat_server.headers.clear()
    chat_server.release.clear()
    yield chat_server
    chat_server.release.set()
    chat_server.mode = "good"


def test_cited_reply_comes_first_without_its_markers(
    server: ChatServer, llm_drafter: SuggestionService
) -> None:
    result = llm_drafter.suggest(REQUEST)
    assert result.generator == "openai_chat:test-model"
    assert result.fallback_reason is None
    first, *rest = result.drafts
    assert first.generator == "openai_chat:test-model"
    assert server.fact in first.text and "[1]" not in first.text
    assert first.grounded
    assert [c.doc_id for c in first.citations] == [result.passages[0].doc_id]
    assert 1 <= len(rest) <= 2 and all(d.generator == "extractive" for d in rest)
    assert len({d.id for d in result.drafts}) == len(result.drafts)


def test_prompt_holds_only_the_message_and_the_numbered_passages(
    server: ChatServer, llm_drafter: SuggestionService
) -> None:
    result = llm_drafter.suggest(REQUEST)
    [payload] = server.requests
    assert payload["model"] == "test-model"
    prompt = "\n".join(m["content"] for m in payload["messages"])
    assert REQUEST.text in prompt
    for i, passage in enumerate(result.passages, start=1):
        assert f"[{i}] {passage.title}" in prompt
    assert "Jane Doe" not in prompt and "get_refund" not in prompt
    assert server.headers[0]["Authorization"] == "Bearer sk-local-test"


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("uncited", "uncited"),
        ("unknown", "unknown_citation"),
        ("slow", "timeout"),
        ("broken", "http_500"),
        ("malformed", "malformed_response"),
    ],
)
def test_unusable_replies_fall_back_to_the_extractive_drafts(
    server: ChatServer, llm_drafter: SuggestionService, mode: str, reason: str
) -> None:
    server.mode = mode
    result = llm_drafter.suggest(REQUEST)
    assert result.fallback_reason == reason
    assert result.generator == "extractive"
    assert result.drafts and all(d.generator == "extractive" for d in result.drafts)
    assert all(d.grounded for d in result.drafts)
    assert "within one hour" not in " ".join(d.text for d in result.drafts)


def test_social_reply_longer_than_a_post_is_refused(
    server: ChatServer, llm_drafter: SuggestionService
) -> None:
    server.fact = "We always refund to the original payment method. " * 8
    try:
        result = llm_drafter.suggest(
            DraftRequest(text=REQUEST.text, channel="social", intent="get_refund")
        )
    finally:
        server.fact = ChatServer.fact
    assert result.fallback_reason == "too_long"
    assert all(len(d.text) <= 280 for d in result.drafts)


def test_nothing_relevant_never_calls_the_model(
    server: ChatServer, chat_server: ChatServer, help_centre: KnowledgeBase
) -> None:
    strict = make_service(
        help_centre,
        drafts_generator="openai_chat",
        drafts_llm_base_url=chat_server.base_url,
        drafts_llm_model="test-model",
        drafts_min_relevance=0.99,
    )
    # No intent either: articles tagged for the intent would answer it.
    try:
        result = strict.suggest(dataclasses.replace(REQUEST, intent=None))
    finally:
        assert isinstance(strict.generator, LlmReplyGenerator)
        strict.generator.close()
    assert result.needs_agent and server.requests == []
