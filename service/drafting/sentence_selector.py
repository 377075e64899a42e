"""Scores the sentences of retrieved passages against a message and picks the best few.

A sentence's score mixes the encoder's cosine similarity with the message and the share
of the message's (stemmed, stop-word-free) words it contains, the same tokens BM25 uses
in the knowledge base. The pick is greedy with a redundancy penalty (maximal marginal
relevance), so two sentences saying the same thing are not both chosen, and a sentence
the agent already sent in this conversation is never offered again.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kb_index.lexical_retriever import tokenize
from models.protocols import Encoder
from service.drafting.draft import Passage
from service.drafting.passage_cache import passage_plain_text, passage_sentences, sentence_words
from service.drafting.passage_text import PassageSentence, split_sentences

FloatArray = npt.NDArray[np.float32]

_NORMALISE = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower-cased alphanumerics only: the key for "the same sentence"."""
    return _NORMALISE.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence of one passage with its relevance to the message."""

    sentence: PassageSentence
    passage_index: int
    score: float
    dense: float
    lexical: float

    @property
    def text(self) -> str:
        """The sentence as it appears in the passage's plain text."""
        return self.sentence.text


@dataclass(frozen=True)
class ScoredPassages:
    """Every candidate sentence of the passages, and each passage's relevance."""

    sentences: tuple[ScoredSentence, ...]
    vectors: FloatArray
    passage_relevance: tuple[float, ...]

    def of_passage(self, index: int) -> list[int]:
        """Positions of the candidates from passage ``index``."""
        return [i for i, s in enumerate(self.sentences) if s.passage_index == index]


class EmbeddingCache:
    """Vectors of recently seen texts. Help-centre sentences repeat across requests, so after
    warm-up a request encodes little more than the message itself."""

    def __init__(self, encoder: Encoder, *, max_entries: int = 20_000) -> None:
        self.encoder = encoder
        self.max_entries = max_entries
        self._vectors: OrderedDict[str, FloatArray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, cache_from: int = 0) -> FloatArray:
        """Vectors of ``texts``; only ``texts[cache_from:]`` are cached (messages are not)."""
        out = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._vectors.get(text) if i >= cache_from else None
                if vector is None:
                    missing.append(i)
                else:
                    self._vectors.move_to_end(text)
                    out[i] = vector
        if missing:
            fresh = np.asarray(self.encoder.encode([texts[i] for i in missing]), dtype=np.float32)
            out[missing] = fresh
            with self._lock:
                for i, vector in zip(missing, fresh, strict=True):
                    if i >= cache_from:
                        self._vectors[texts[i]] = vector
                while len(self._vectors) > self.max_entries:
                    self._vectors.popitem(last=False)
        return out


def _opens_article(sentence: PassageSentence, passage: Passage) -> bool:
    """The sentence stands under the article's own title (its opening paragraph)."""
    return sentence.heading is not None and normalise(sentence.heading) == normalise(passage.title)


class SentenceSelector:
    """Ranks passage sentences for a message.

    Args:
        encoder: the service's sentence encoder.
        lexical_weight: share of word overlap in a sentence's score (the rest is cosine).
        lead_bonus: added to the score of a sentence of an article's opening paragraph
            (under its title): help-centre articles open with the short answer ("We do not
            ship outside Europe"), which a question worded unlike it still wants.
        redundancy: how strongly similarity to an already chosen sentence counts against
            a candidate (0 = plain ranking).
        duplicate_similarity: cosine above which two sentences count as the same.
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        lexical_weight: float = 0.25,
        lead_bonus: float = 0.05,
        redundancy: float = 0.5,
        duplicate_similarity: float = 0.92,
    ) -> None:
        if not 0.0 <= lexical_weight <= 1.0:
            raise ValueError("lexical_weight must be in [0, 1]")
        self.encoder = encoder
        self.cache = EmbeddingCache(encoder)
        self.lexical_weight = lexical_weight
        self.lead_bonus = lead_bonus
        self.redundancy = redundancy
        self.duplicate_similarity = duplicate_similarity

    def encode_query(self, query: str) -> FloatArray:
        """The message's vector (never cached: messages are personal and rarely repeat)."""
        return np.asarray(self.encoder.encode([query]), dtype=np.float32)[0]

    def score(
        self,
        query: str,
        passages: Sequence[Passage],
        *,
        exclude: Sequence[str] = (),
        query_vector: FloatArray | None = None,
    ) -> ScoredPassages:
        """Score every standalone sentence of ``passages``; ``exclude`` holds texts (earlier
        agent replies) whose sentences must not be offered again; ``query_vector`` is
        ``encode_query(query)`` when the caller already has it."""
        excluded = {normalise(s.text) for text in exclude for s in split_sentences(text)}
        excluded |= {normalise(t) for t in exclude}
        seen: set[str] = set()
        candidates: list[tuple[PassageSentence, int]] = []
        for index, passage in enumerate(passages):
            for sentence in passage_sentences(passage.text):
                key = normalise(sentence.text)
                if not sentence.standalone or key in seen or key in excluded:
                    continue
                if any(key in e for e in excluded if len(key) > 40):
                    continue
                seen.add(key)
                candidates.append((sentence, index))
        contexts = [f"{p.title}\n{p.heading or ''}\n{p.matched or p.text}" for p in passages]
        vectors = self.cache.encode([*contexts, *(s.text for s, _ in candidates)])
        q = query_vector if query_vector is not None else self.encode_query(query)
        passage_dense = vectors[: len(passages)] @ q
        sentence_vectors = vectors[len(passages) :]
        dense = sentence_vectors @ q if len(candidates) else np.zeros(0, dtype=np.float32)
        query_words = set(tokenize(query))
        scored = []
        for (sentence, index), cos in zip(candidates, dense.tolist(), strict=True):
            words = sentence_words(sentence.text)
            lexical = len(query_words & words) / len(query_words) if query_words else 0.0
            score = (1.0 - self.lexical_weight) * cos + self.lexical_weight * lexical
            if _opens_article(sentence, passages[index]):
                score += self.lead_bonus
            scored.append(ScoredSentence(sentence, index, float(score), float(cos), lexical))
        # Relevance reads the matched chunk only, also when the whole article is offered.
        matched = [
            passage_plain_text(p.matched) if p.matched is not None else None for p in passages
        ]
        relevance = []
        for index in range(len(passages)):
            within = matched[index]
            best = max(
                (
                    s.dense
                    for s in scored
                    if s.passage_index == index and (within is None or s.text in within)
                ),
                default=-1.0,
            )
            relevance.append(max(float(passage_dense[index]), best))
        return ScoredPassages(tuple(scored), sentence_vectors, tuple(relevance))

    def select(
        self,
        scored: ScoredPassages,
        *,
        limit: int,
        among: Sequence[int] | None = None,
        min_score: float = 0.0,
    ) -> list[ScoredSentence]:
        """Up to ``limit`` sentences by maximal marginal relevance, best first.

        Args:
            scored: the output of :meth:`score`.
            limit: most sentences to return.
            among: candidate positions to choose from (default: all).
            min_score: candidates scoring below this are never chosen.
        """
        pool = [i for i in (among if among is not None else range(len(scored.sentences)))]
        pool = [i for i in pool if scored.sentences[i].score >= min_score]
        chosen: list[int] = []
        while pool and len(chosen) < limit:
            best, best_value = -1, -np.inf
            for i in pool:
                overlap = (
                    max(float(scored.vectors[i] @ scored.vectors[j]) for j in chosen)
                    if chosen
                    else 0.0
                )
                if overlap >= self.duplicate_similarity:
                    continue
                value = scored.sentences[i].score - self.redundancy * max(overlap, 0.0)
                if value > best_value:
                    best, best_value = i, value
            if best < 0:
                break
            chosen.append(best)
            pool.remove(best)
        return [scored.sentences[i] for i in chosen]
