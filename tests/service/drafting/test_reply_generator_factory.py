"""Generators are chosen by name from settings; a wrong name or setup stops startup."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kb_index.knowledge_base import KnowledgeBase
from models.errors import InvalidInputError
from service.drafting.extractive_reply_generator import ExtractiveReplyGenerator
from service.drafting.reply_generator import generator_names
from service.settings import Settings
from tests.service.drafting.conftest import make_service


def test_registry_holds_the_builtin_generators() -> None:
    assert {"extractive", "openai_chat"} <= set(generator_names())


def test_default_generator_is_the_offline_extractive_one(help_centre: KnowledgeBase) -> None:
    assert Settings().drafts_generator == "extractive"
    assert isinstance(make_service(help_centre).generator, ExtractiveReplyGenerator)


def test_unknown_generator_name_is_refused(help_centre: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError, match="drafts_generator"):
        make_service(help_centre, drafts_generator="gpt-9")


def test_llm_generator_needs_an_endpoint_and_a_model() -> None:
    with pytest.raises(ValidationError, match="drafts_llm_base_url"):
        Settings(drafts_generator="openai_chat")
    with pytest.raises(ValidationError, match="drafts_llm_timeout_s"):
        Settings(drafts_llm_timeout_s=0)
