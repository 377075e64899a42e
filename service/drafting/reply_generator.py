"""The ``ReplyGenerator`` protocol: what a drafter is given and what it returns.

This module never imports an implementation; ``reply_generator_factory`` picks one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from service.drafting.draft import Draft, Passage
from service.drafting.draft_request import DraftRequest
from service.drafting.reply_composer import ReplyComposer
from service.drafting.sentence_selector import ScoredPassages, SentenceSelector
from service.settings import Settings


@dataclass(frozen=True)
class Evidence:
    """What a generator may build on: passages relevant enough to answer from.

    ``scored`` covers exactly ``passages`` (same order); ``confidence`` is the gate's
    probability that they answer the message, ``passage_confidence`` the same per passage.
    ``preferred`` indexes the passages of articles the help centre names for the
    message's intent: the first draft answers from them when there are any.
    """

    passages: tuple[Passage, ...]
    scored: ScoredPassages
    confidence: float
    passage_confidence: tuple[float, ...]
    preferred: tuple[int, ...] = ()


@dataclass(frozen=True)
class Generation:
    """Drafts from one generator, and why it fell back to another one if it did."""

    drafts: tuple[Draft, ...]
    generator: str
    fallback_reason: str | None = None


class ReplyGenerator(Protocol):
    """Writes drafts for a message from the evidence; never states what the evidence lacks."""

    @property
    def name(self) -> str:
        """Registry name, recorded with every suggestion."""
        ...

    def generate(self, request: DraftRequest, evidence: Evidence, *, set_id: str) -> Generation:
        """Up to three drafts, best first; draft ids start with ``set_id``."""
        ...

    def close(self) -> None:
        """Release connections (nothing, for a local generator)."""
        ...


@dataclass(frozen=True)
class GeneratorContext:
    """What a generator factory (see ``reply_generator_factory``) may use."""

    settings: Settings
    selector: SentenceSelector
    composer: ReplyComposer
