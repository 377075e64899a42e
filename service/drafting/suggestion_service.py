"""Drafts for one message: retrieve passages, check they answer it, let a generator write.

Used by ``/v1/respond`` (for ``suggest`` decisions) and ``/v1/suggest``. When nothing
retrieved is relevant enough (see ``AnswerabilityGate``), the only draft is a holding
reply that states no facts and ``needs_agent`` is set. A knowledge base that cannot be
searched at all is another matter: its ``UnavailableError`` propagates (503, retry)
rather than passing for "no answer".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kb_index.documents import DocumentHit, SearchFilters
from kb_index.hybrid_retriever import MAX_QUERY_CHARS
from kb_index.protocols import Retriever
from models.errors import NotFoundError
from models.protocols import Encoder
from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.draft import Draft, DraftSet, Passage
from service.drafting.draft_request import DraftRequest
from service.drafting.gate_family import gate_dir
from service.drafting.reply_composer import ReplyComposer
from service.drafting.reply_generator import Evidence, GeneratorContext, ReplyGenerator
from service.drafting.reply_generator_factory import build_reply_generator
from service.drafting.sentence_selector import FloatArray, ScoredPassages, SentenceSelector
from service.random_ids import new_hex_id
from service.settings import Settings

HOLDING = "holding"


class ArticleText(Protocol):
    """What a stored document offers drafting (``kb_index.documents.KbDocument``)."""

    @property
    def text(self) -> str: ...


@runtime_checkable
class ArticleSource(Protocol):
    """Whole articles by id (``kb_index.knowledge_base.KnowledgeBase``)."""

    def get(self, doc_id: str) -> ArticleText:
        """The stored document; raises ``NotFoundError`` when it is gone."""
        ...


# Drafts go to customers: internal agent guides are never quoted.
CUSTOMER_VISIBLE = SearchFilters(visibility=("public",))
INTENT_TAG_PREFIX = "intent:"


def intent_tag(intent: str) -> str:
    """The document tag by which a help centre names an article as answering ``intent``."""
    return f"{INTENT_TAG_PREFIX}{intent}"


@dataclass(frozen=True)
class RelevanceCheck:
    """The passages retrieved for a message and how well they match it.

    ``intent_articles`` indexes the passages of articles tagged for the message's intent.
    """

    passages: tuple[Passage, ...]
    scored: ScoredPassages
    relevance: float
    intent_articles: tuple[int, ...] = ()


class SuggestionService:
    """Retrieval, answerability check and draft generation for one message.

    Args:
        retriever: the knowledge base.
        selector: scores passage sentences (and thereby passages) against the message.
        gate: decides whether the passages answer the message.
        generator: writes the drafts.
        composer: writes the holding reply.
        max_passages: passages retrieved per message (the respond policy's
            ``suggestions.max_passages``).
        index_version: current knowledge-base version, recorded with each suggestion.
        articles: whole articles by id. A help-centre article is short and its answer
            often sits in another section than the one that matched best ("can I order
            from Mexico" matches "Large items", the answer is the opening paragraph), so
            an article of at most ``article_chars`` is offered whole to the drafter.
        article_chars: longest article offered whole; longer ones offer the matched
            passage.
    """

    def __init__(
        self,
        *,
        retriever: Retriever,
        selector: SentenceSelector,
        gate: AnswerabilityGate,
        generator: ReplyGenerator,
        composer: ReplyComposer,
        max_passages: int = 3,
        index_version: Callable[[], str] = lambda: "unknown",
        articles: ArticleSource | None = None,
        article_chars: int = 4_000,
    ) -> None:
        if max_passages < 1:
            raise ValueError("max_passages must be positive")
        self.articles = articles
        self.article_chars = article_chars
        self.retriever = retriever
        self.selector = selector
        self.gate = gate
        self.generator = generator
        self.composer = composer
        self.max_passages = max_passages
        self.index_version = index_version

    def _retrieve(
        self, query: str, vector: FloatArray, filters: SearchFilters
    ) -> list[DocumentHit]:
        return self.retriever.retrieve(
            query, k=self.max_passages, filters=filters, query_vector=vector
        )

    def check(self, request: DraftRequest) -> RelevanceCheck:
        """Retrieve and score passages (no drafting); also what the gate is fitted on.

        When triage names an intent without a close second, articles the help centre
        tags ``intent:<intent>`` are searched too and lead the passages (at most
        ``max_passages - 1`` of them, so the best untagged match still gets a place). Similarity
        alone misses short or oddly worded messages ("can I order from Mexico") that
        the intent model, trained on many phrasings, recognises.
        """
        query = request.search_text[:MAX_QUERY_CHARS]
        vector = (
            request.focus_vector
            if request.focus_vector is not None and query == request.focus_text
            else self.selector.encode_query(query)
        )
        general = self._retrieve(query, vector, CUSTOMER_VISIBLE)
        tagged: list[DocumentHit] = []
        if request.intent and not request.intent_ambiguous:
            tag_filter = SearchFilters(tags=(intent_tag(request.intent),), visibility=("public",))
            tagged = self._retrieve(query, vector, tag_filter)[: max(self.max_passages - 1, 1)]
        tagged_ids = {h.doc_id for h in tagged}
        hits = (tagged + [h for h in general if h.doc_id not in tagged_ids])[: self.max_passages]
        passages = tuple(self._passage(h) for h in hits)
        earlier = [t.text for t in request.history if t.role == "agent"]
        scored = self.selector.score(query, passages, exclude=earlier, query_vector=vector)
        relevance = max(scored.passage_relevance, default=-1.0)
        intent_articles = tuple(i for i, h in enumerate(hits) if h.doc_id in tagged_ids)
        return RelevanceCheck(passages, scored, relevance, intent_articles)

    def _passage(self, hit: DocumentHit) -> Passage:
        """The whole article when it is short enough (its id then names the passage),
        else the matched chunk."""
        chunk_id, text, matched = hit.chunk_id, hit.passage, None
        if self.articles is not None:
            try:
                article = self.articles.get(hit.doc_id).text
            except NotFoundError:  # deleted since the search: quote what was found
                article = ""
            if article and len(article) <= self.article_chars:
                chunk_id, text, matched = hit.doc_id, article, hit.passage
        return Passage(
            doc_id=hit.doc_id,
            title=hit.title,
            url=hit.url,
            chunk_id=chunk_id,
            text=text,
            snippet=hit.snippet,
            score=float(hit.score),
            heading=hit.heading,
            matched=matched,
        )

    def _usable(self, found: RelevanceCheck, index: int) -> bool:
        """A passage may be answered from: relevant enough, or from an article the help
        centre names for the message's intent."""
        return index in found.intent_articles or self.gate.answerable(
            found.scored.passage_relevance[index]
        )

    def close(self) -> None:
        """Release what the generator holds (an LLM client's connections)."""
        self.generator.close()

    def suggest(self, request: DraftRequest) -> DraftSet:
        """Drafts for ``request``; a holding reply with ``needs_agent`` when nothing fits.

        Raises:
            UnavailableError: the knowledge base cannot be searched right now.
        """
        set_id = new_hex_id()
        found = self.check(request)
        versions = {"kb_index": self.index_version(), "gate": self.gate.version}
        usable = [i for i in range(len(found.passages)) if self._usable(found, i)]
        if not usable:
            return self._holding(request, found, set_id, versions, reason=None)
        keep = [i for i in usable if found.scored.of_passage(i)]
        if not keep:
            return self._holding(request, found, set_id, versions, reason="no_quotable_sentence")
        evidence = self._evidence(found, keep, request.intent_confidence)
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

    def _evidence(
        self, found: RelevanceCheck, keep: Sequence[int], intent_confidence: float | None
    ) -> Evidence:
        """The kept passages with their sentences re-indexed.

        A passage of an article tagged for the intent is as likely to answer as the
        intent is right, so its confidence is at least the intent's.
        """
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
        floor = intent_confidence or 0.0
        passage_confidence = tuple(
            max(self.gate.probability(r), floor if i in found.intent_articles else 0.0)
            for i, r in zip(keep, relevance, strict=True)
        )
        return Evidence(
            passages=tuple(found.passages[i] for i in keep),
            scored=scored,
            confidence=max(passage_confidence),
            passage_confidence=passage_confidence,
            preferred=tuple(position[i] for i in keep if i in found.intent_articles),
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
    retriever: Retriever,
    signature: str,
    max_passages: int,
    index_version: Callable[[], str] = lambda: "unknown",
) -> SuggestionService:
    """The drafting service ``settings`` describe; a bad gate or generator stops startup.

    Raises:
        ArtifactError: the gate artifact is missing, corrupt or fitted on another encoder.
    """
    if settings.drafts_min_relevance is not None:
        gate = AnswerabilityGate.fixed(settings.drafts_min_relevance)
    else:
        gate = AnswerabilityGate.from_artifact(gate_dir(settings, encoder), encoder=encoder)
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
        max_passages=max_passages,
        index_version=index_version,
        articles=retriever if isinstance(retriever, ArticleSource) else None,
    )
