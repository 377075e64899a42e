"""Drafts for one message: retrieve passages, check they answer it, let a generator write.

Used by ``/v1/respond`` (for ``suggest`` decisions) and ``/v1/suggest``. When nothing
retrieved is relevant enough (see ``AnswerabilityGate``), the only draft is a holding
reply that states no facts and ``needs_agent`` is set.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kb_index.documents import SearchFilters
from models.errors import TriageError
from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.draft import Draft, DraftRequest, DraftSet, Passage
from service.drafting.reply_composer import ReplyComposer
from service.drafting.reply_generator import (
    Evidence,
    GeneratorContext,
    ReplyGenerator,
    build_reply_generator,
)
from service.drafting.sentence_selector import ScoredPassages, SentenceSelector

if TYPE_CHECKING:
    from models.protocols import Encoder
    from service.settings import Settings

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2_000
HOLDING = "holding"


class PassageHit(Protocol):
    """A retrieved passage (``kb_index.documents.DocumentHit``)."""

    @property
    def doc_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def score(self) -> float: ...
    @property
    def snippet(self) -> str: ...
    @property
    def passage(self) -> str: ...
    @property
    def chunk_id(self) -> str: ...
    @property
    def heading(self) -> str | None: ...


class PassageRetriever(Protocol):
    """The part of ``kb_index.protocols.Retriever`` drafting uses."""

    def retrieve(
        self, query: str, *, k: int = 5, filters: SearchFilters | None = None
    ) -> Sequence[PassageHit]:
        """Up to ``k`` documents' best passages that pass ``filters``, best first."""
        ...


# Drafts go to customers: internal agent guides are never quoted.
CUSTOMER_VISIBLE = SearchFilters(visibility=("public",))


@dataclass(frozen=True)
class RelevanceCheck:
    """The passages retrieved for a message and how well they match it."""

    passages: tuple[Passage, ...]
    scored: ScoredPassages
    relevance: float


class SuggestionService:
    """Retrieval, answerability check and draft generation for one message.

    Args:
        retriever: the knowledge base.
        selector: scores passage sentences (and thereby passages) against the message.
        gate: decides whether the passages answer the message.
        generator: writes the drafts.
        composer: writes the holding reply.
        k: passages retrieved per message.
        index_version: current knowledge-base version, recorded with each suggestion.
    """

    def __init__(
        self,
        *,
        retriever: PassageRetriever,
        selector: SentenceSelector,
        gate: AnswerabilityGate,
        generator: ReplyGenerator,
        composer: ReplyComposer,
        k: int = 3,
        index_version: Callable[[], str] = lambda: "unknown",
    ) -> None:
        if k < 1:
            raise ValueError("k must be positive")
        self.retriever = retriever
        self.selector = selector
        self.gate = gate
        self.generator = generator
        self.composer = composer
        self.k = k
        self.index_version = index_version

    def check(self, request: DraftRequest) -> RelevanceCheck:
        """Retrieve and score passages (no drafting); also what the gate is fitted on."""
        query = request.query[:MAX_QUERY_CHARS]
        try:
            hits = list(self.retriever.retrieve(query, k=self.k, filters=CUSTOMER_VISIBLE))
        except TriageError as exc:
            logger.warning("knowledge-base retrieval failed: %s", exc)
            hits = []
        passages = tuple(
            Passage(
                doc_id=h.doc_id,
                title=h.title,
                url=h.url,
                chunk_id=h.chunk_id,
                text=h.passage,
                snippet=h.snippet,
                score=float(h.score),
                heading=h.heading,
            )
            for h in hits
        )
        earlier = [t.text for t in request.history if t.role == "agent"]
        scored = self.selector.score(query, passages, exclude=earlier)
        relevance = max(scored.passage_relevance, default=-1.0)
        return RelevanceCheck(passages, scored, relevance)

    def suggest(self, request: DraftRequest) -> DraftSet:
        """Drafts for ``request``; a holding reply with ``needs_agent`` when nothing fits."""
        set_id = uuid.uuid4().hex
        found = self.check(request)
        versions = {"kb_index": self.index_version(), "gate": self.gate.version}
        if not found.passages or not self.gate.answerable(found.relevance):
            return self._holding(request, found, set_id, versions, reason=None)
        keep = [
            i
            for i, r in enumerate(found.scored.passage_relevance)
            if self.gate.answerable(r) and found.scored.of_passage(i)
        ]
        if not keep:
            return self._holding(request, found, set_id, versions, reason="no_quotable_sentence")
        evidence = self._evidence(found, keep)
        generation = self.generator.generate(request, evidence, set_id=set_id)
        if not generation.drafts:
            return self._holding(request, found, set_id, versions, reason="no_draft")
        return DraftSet(
            id=set_id,
            drafts=generation.drafts,
            passages=found.passages,
            needs_agent=False,
            relevance=found.relevance,
            generator=generation.generator,
            fallback_reason=generation.fallback_reason,
            versions=versions,
        )

    def _evidence(self, found: RelevanceCheck, keep: Sequence[int]) -> Evidence:
        """The kept passages with their sentences re-indexed."""
        position = {old: new for new, old in enumerate(keep)}
        sentences = []
        rows = []
        for row, sentence in enumerate(found.scored.sentences):
            if sentence.passage_index in position:
                rows.append(row)
                sentences.append(
                    type(sentence)(
                        sentence=sentence.sentence,
                        passage_index=position[sentence.passage_index],
                        score=sentence.score,
                        dense=sentence.dense,
                        lexical=sentence.lexical,
                    )
                )
        relevance = tuple(found.scored.passage_relevance[i] for i in keep)
        scored = ScoredPassages(tuple(sentences), found.scored.vectors[rows], relevance)
        return Evidence(
            passages=tuple(found.passages[i] for i in keep),
            scored=scored,
            relevance=found.relevance,
            confidence=self.gate.probability(found.relevance),
            passage_confidence=tuple(self.gate.probability(r) for r in relevance),
        )

    def _holding(
        self,
        request: DraftRequest,
        found: RelevanceCheck,
        set_id: str,
        versions: dict[str, str],
        *,
        reason: str | None,
    ) -> DraftSet:
        composed = self.composer.holding(request)
        draft = Draft(
            id=f"{set_id}-1",
            text=composed.text,
            citations=(),
            grounded=False,
            confidence=round(1.0 - self.gate.probability(found.relevance), 4),
            sentences=composed.sentences,
            generator=HOLDING,
        )
        return DraftSet(
            id=set_id,
            drafts=(draft,),
            passages=found.passages,
            needs_agent=True,
            relevance=found.relevance,
            generator=HOLDING,
            fallback_reason=reason,
            versions=versions,
        )


def build_suggestion_service(
    settings: Settings,
    *,
    encoder: Encoder,
    retriever: PassageRetriever,
    signature: str,
    k: int,
    index_version: Callable[[], str] = lambda: "unknown",
) -> SuggestionService:
    """The drafting service ``settings`` describe; a bad gate or generator stops startup.

    Raises:
        ArtifactError: the gate artifact is missing, corrupt or fitted on another encoder.
        InvalidInputError: the generator name is unknown or its settings are incomplete.
    """
    if settings.drafts_min_relevance is not None:
        gate = AnswerabilityGate.fixed(settings.drafts_min_relevance)
    else:
        gate = AnswerabilityGate.from_artifact(settings.drafts_gate_dir, encoder=encoder)
    selector = SentenceSelector(encoder)
    composer = ReplyComposer(signature=signature)
    context = GeneratorContext(settings=settings, selector=selector, composer=composer)
    generator = build_reply_generator(settings.drafts_generator, context)
    return SuggestionService(
        retriever=retriever,
        selector=selector,
        gate=gate,
        generator=generator,
        composer=composer,
        k=k,
        index_version=index_version,
    )
