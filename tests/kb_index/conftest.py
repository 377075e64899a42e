"""Fixtures for the knowledge-base tests: small real documents and an index folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.documents import KbDocument
from kb_index.knowledge_base import KnowledgeBase
from tests.fixtures.hashing_encoder import HashingEncoder

RETURNS_TEXT = """# Returns

You can return items within 30 days of delivery.

## Items we cannot take back

Personalised items, opened pillows and gift cards cannot be returned.

## Return costs

Returns within the Netherlands are free. Other EU countries pay 6.95 euro."""

DELIVERY_TEXT = """# Delivery

Standard delivery takes 1 to 3 business days and costs 4.95 euro.

## Express

Express delivery arrives the next business day when you order before 14:00."""

PASSWORD_TEXT = """Forgot your password? Choose Forgot password on the sign-in page.

The reset link in the email is valid for 60 minutes."""

GOODWILL_TEXT = """Agents may offer up to 15 euro goodwill per order; team leads approve more."""


@pytest.fixture
def documents() -> list[KbDocument]:
    """Four small documents with tags and one internal article."""
    return [
        KbDocument(
            id="returns",
            title="Returns",
            text=RETURNS_TEXT,
            url="https://help.example/returns",
            tags=("returns",),
        ),
        KbDocument(
            id="delivery",
            title="Delivery options",
            text=DELIVERY_TEXT,
            url="https://help.example/delivery",
            tags=("delivery", "shipping-costs"),
        ),
        KbDocument(
            id="password",
            title="Resetting your password",
            text=PASSWORD_TEXT,
            tags=("account",),
        ),
        KbDocument(
            id="goodwill",
            title="Agent guide: goodwill",
            text=GOODWILL_TEXT,
            tags=("refunds", "agents"),
            visibility="internal",
        ),
    ]


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """Where a test's index lives."""
    return tmp_path / "kb_index"


@pytest.fixture
def kb(
    index_dir: Path, hashing_encoder: HashingEncoder, documents: list[KbDocument]
) -> KnowledgeBase:
    """A persisted knowledge base holding ``documents``."""
    base = KnowledgeBase.open(index_dir, encoder=hashing_encoder)
    base.upsert(documents)
    return base
