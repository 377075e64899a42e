"""Drafting fixtures: the sample help centre in an in-memory KB on the hashing encoder."""

from __future__ import annotations

import pytest

from kb_index.document_loader import load_documents
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
from service.drafting.suggestion_service import SuggestionService, build_suggestion_service
from service.settings import Settings

# The hashing encoder is not what the shipped gate was fitted for; this fixed threshold
# only keeps out text that shares almost nothing with the help centre.
HASHING_MIN_RELEVANCE = 0.3


def make_service(kb: KnowledgeBase, **settings: object) -> SuggestionService:
    """A suggestion service over ``kb`` with the given settings."""
    values: dict[str, object] = {"drafts_min_relevance": HASHING_MIN_RELEVANCE, **settings}
    return build_suggestion_service(
        Settings(**values),  # type: ignore[arg-type]
        encoder=kb.encoder,
        retriever=kb,
        signature="The Customer Care team",
        max_passages=3,
        index_version=lambda: kb.version,
    )


@pytest.fixture(scope="session")
def drafter(help_centre: KnowledgeBase) -> SuggestionService:
    """The default (extractive) drafting service over the help centre."""
    return make_service(help_centre)


@pytest.fixture(scope="session")
def real_drafter(real_encoder) -> SuggestionService:  # type: ignore[no-untyped-def]
    """The shipped configuration: the help centre on the real encoder, the shipped gate."""
    kb = KnowledgeBase(encoder=real_encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    return build_suggestion_service(
        Settings(),
        encoder=real_encoder,
        retriever=kb,
        signature="The Customer Care team",
        max_passages=3,
        index_version=lambda: kb.version,
    )
