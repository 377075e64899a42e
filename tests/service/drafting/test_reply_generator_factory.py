"""Generators are chosen by name from settings; a wrong name or setup stops startup."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from kb_index.knowledge_base import KnowledgeBase
from service.drafting.extractive_reply_generator import ExtractiveReplyGenerator
from service.drafting.reply_generator_factory import GENERATOR_FACTORIES
from service.settings import ReplyGeneratorName, Settings
from tests.service.drafting.conftest import make_service


def test_every_generator_name_the_settings_accept_has_a_factory() -> None:
    assert set(GENERATOR_FACTORIES) == set(get_args(ReplyGeneratorName))
    assert {"extractive", "openai_chat"} <= set(GENERATOR_FACTORIES)


def test_default_generator_is_the_offline_extractive_one(help_centre: KnowledgeBase) -> None:
    assert Settings().drafts_generator == "extractive"
    assert isinstance(make_service(help_centre).generator, ExtractiveReplyGenerator)


def test_unknown_generator_name_is_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError, match="drafts_generator"):
        Settings(drafts_generator="gpt-9")  # type: ignore[arg-type]


def test_llm_generator_needs_an_endpoint_and_a_model() -> None:
    with pytest.raises(ValidationError, match="drafts_llm_base_url"):
        Settings(drafts_generator="openai_chat")
    with pytest.raises(ValidationError, match="drafts_llm_timeout_s"):
        Settings(drafts_llm_timeout_s=0)
    with pytest.raises(ValidationError, match="http"):
        Settings(drafts_llm_base_url="localhost:11434/v1", drafts_llm_model="m")
