"""Hybrid retrieval: dense and BM25 chunk scores fused, then grouped per document.

Both retrievers propose their best ``depth`` chunks; for the union of those candidates
the *exact* score from each side is known (dense: dot product with the stored vector;
BM25: the full score array), so a candidate one side missed is still scored fairly.
Fusion is either reciprocal-rank fusion or a weighted sum of normalised scores, plus
fielded matching: a document's title (a FAQ's question) is scored apart from its body,
by the share of query words it holds and by its own embedding. The weights are chosen
per collection on its development queries (``kb_index.fusion_selection``); every single
retriever is one point of the weighted form (``dense_weight=1`` is exactly dense
retrieval, ``0`` exactly BM25, ``body_weight=0`` with ``title_dense_weight=1`` the title
field alone), so the chosen fusion can always match the best of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from kb_index.documents import DocumentHit, SearchFilters
from kb_index.index_state import IndexState
from kb_index.lexical_retriever import tokenize, top_positive
from models.errors import InvalidInputError
from models.protocols import Encoder

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "dense", "bm25", "title"]
#: ``title`` is dense retrieval on the title field alone (a FAQ's question).
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "bm25", "title")
FusionMethod = Literal["weighted", "rrf"]
Normalisation = Literal["minmax", "max"]
MAX_K = 100
MAX_QUERY_CHARS = 2_000


@dataclass(frozen=True)
class FusionConfig:
    """How dense and lexical scores are combined.

    The defaults come from the sample help centre's development queries: RRF lost to
    dense alone on recall@1 and MRR (BM25 is much weaker there), while a weighted sum of
    min-max normalised scores with a high dense share plus title matching beat both
    retrievers on every metric, also when chosen on one half of the queries and checked
    on the other (``bench/kb_fusion_selection.py`` reproduces the comparison).

    Args:
        method: ``weighted`` (normalised score sum) or ``rrf`` (reciprocal-rank fusion).
        dense_weight: share of the dense score in ``weighted`` fusion.
        normalisation: ``minmax`` over the candidates, or division by the best score.
        title_weight: bonus per document for the share of query words in its title.
        title_dense_weight: bonus per document for the query's similarity to its title
            alone (min-max normalised over the candidates); a FAQ's question is a far
            better match for a rephrasing than the question and answer together.
        body_weight: weight of the fused body (chunk) score; ``0`` leaves the title alone.
        rrf_k: the constant of reciprocal-rank fusion.
        depth: candidate chunks taken from each retriever.
    """

    method: FusionMethod = "weighted"
    dense_weight: float = 0.9
    normalisation: Normalisation = "minmax"
    title_weight: float = 0.3
    title_dense_weight: float = 0.0
    body_weight: float = 1.0
    rrf_k: int = 60
    depth: int = 100

    def __post_init__(self) -> None:
        if self.method not in ("weighted", "rrf"):
            raise InvalidInputError(
                f"method must be weighted or rrf, not {self.method!r}", field="method"
            )
        if self.normalisation not in ("minmax", "max"):
            raise InvalidInputError(
                f"normalisation must be minmax or max, not {self.normalisation!r}",
                field="normalisation",
            )
        for name in ("dense_weight", "body_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInputError(f"{name} must be in [0, 1]", field=name)
        for name in ("title_weight", "title_dense_weight"):
            if not getattr(self, name) >= 0:
                raise InvalidInputError(f"{name} must not be negative", field=name)
        for name in ("depth", "rrf_k"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be positive", field=name)
        if self.body_weight == 0 and self.title_weight == 0 and self.title_dense_weight == 0:
            # Every document would score zero: search would return an arbitrary order.
            raise InvalidInputError(
                "body_weight 0 leaves nothing to rank by unless title_weight or "
                "title_dense_weight is positive",
                field="body_weight",
            )

    @property
    def fingerprint(self) -> str:
        """A short hash of the settings, for version strings."""
        raw = json.dumps(self.to_json(), sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:8]

    @property
    def uses_title_vectors(self) -> bool:
        """Whether searching needs the embedding of every document's title."""
        return self.title_dense_weight > 0

    def to_json(self) -> dict[str, Any]:
        """Recorded in the index manifest and evaluation reports."""
        return {
            "method": self.method,
            "dense_weight": self.dense_weight,
            "normalisation": self.normalisation,
            "title_weight": self.title_weight,
            "title_dense_weight": self.title_dense_weight,
            "body_weight": self.body_weight,
            "rrf_k": self.rrf_k,
            "depth": self.depth,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FusionConfig:
        """Read what :meth:`to_json` wrote; keys this version does not know are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidInputError(f"fusion: unknown setting(s) {', '.join(unknown)}")
        try:
            return cls(**dict(raw))
        except TypeError as exc:
            raise InvalidInputError(f"fusion: {exc}") from exc


def _normalise(scores: npt.NDArray[np.float64], how: Normalisation) -> npt.NDArray[np.float64]:
    if len(scores) == 0:
        return scores
    top = float(scores.max())
    if how == "max":
        return scores / top if top > 0 else np.zeros_like(scores)
    low = float(scores.min())
    if top - low <= 1e-12:
        return np.ones_like(scores) if top > 0 else np.zeros_like(scores)
    return (scores - low) / (top - low)


def _rrf(
    ranked_rows: npt.NDArray[np.int64], candidates: npt.NDArray[np.int64], rrf_k: int
) -> npt.NDArray[np.float64]:
    rank_of = {int(row): rank for rank, row in enumerate(ranked_rows.tolist(), start=1)}
    return np.array(
        [1.0 / (rrf_k + rank_of[r]) if r in rank_of else 0.0 for r in candidates.tolist()],
        dtype=np.float64,
    )


def validate_query(query: str, k: int) -> str:
    """Reject queries and ``k`` values no search can answer sensibly."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError("query: must contain non-whitespace characters")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"query: at most {MAX_QUERY_CHARS} characters")
    if not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k: must be between 1 and {MAX_K}")
    return query.strip()


class HybridRetriever:
    """Implements :class:`kb_index.protocols.Retriever` over the current index snapshot.

    Args:
        state: returns the snapshot to search (the knowledge base swaps it on writes).
        encoder: embeds queries; must be the encoder the index was built with.
        fusion: how dense and BM25 scores are combined in ``hybrid`` mode.
        mode: default mode of :meth:`retrieve`.
    """

    def __init__(
        self,
        state: Callable[[], IndexState],
        *,
        encoder: Encoder,
        fusion: FusionConfig | None = None,
        mode: SearchMode = "hybrid",
    ) -> None:
        if mode not in SEARCH_MODES:
            raise InvalidInputError(f"mode: {mode!r} is not one of {', '.join(SEARCH_MODES)}")
        self._state = state
        self.encoder = encoder
        self.fusion = fusion or FusionConfig()
        self.mode: SearchMode = mode
        # Title embeddings by title text: a snapshot swap re-encodes only new titles.
        self._title_vectors: dict[str, npt.NDArray[np.float32]] = {}
        self._title_matrix: tuple[str, npt.NDArray[np.float32]] | None = None
        self._title_lock = threading.Lock()

    def title_vectors(self, state: IndexState) -> npt.NDArray[np.float32]:
        """The embedding of every document's title, rows in ``state.doc_ids`` order.

        Computed on first use per snapshot (titles only, one short text per document) and
        cached, so only the title field of a collection that uses it costs anything.
        """
        key = state.fingerprint
        cached = self._title_matrix
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._title_lock:
            titles = [state.documents[doc_id].title for doc_id in state.doc_ids]
            missing = sorted({t for t in titles if t not in self._title_vectors})
            if missing:
                vectors = self.encoder.encode(missing)
                self._title_vectors.update(zip(missing, vectors, strict=True))
            live = set(titles)
            for title in [t for t in self._title_vectors if t not in live]:
                del self._title_vectors[title]
            matrix = (
                np.vstack([self._title_vectors[t] for t in titles]).astype(np.float32)
                if titles
                else np.zeros((0, self.encoder.dimension), dtype=np.float32)
            )
            self._title_matrix = (key, matrix)
            return matrix

    def retrieve(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[DocumentHit]:
        """Best ``k`` documents for ``query`` in this retriever's mode."""
        return self.search(query, k=k, filters=filters, mode=self.mode, query_vector=query_vector)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[DocumentHit]:
        """Search with an explicit mode; ``query_vector`` skips encoding (benchmarks, batches)."""
        query = validate_query(query, k)
        mode = mode or self.mode
        if mode not in SEARCH_MODES:
            raise InvalidInputError(f"mode: {mode!r} is not one of {', '.join(SEARCH_MODES)}")
        state = self._state()
        if not state.documents:
            return []
        if query_vector is None and mode != "bm25":
            query_vector = self.encoder.encode([query])[0]
        return self.search_state(state, query, query_vector, k=k, filters=filters, mode=mode)

    def search_state(
        self,
        state: IndexState,
        query: str,
        query_vector: npt.NDArray[np.float32] | None,
        *,
        k: int,
        filters: SearchFilters | None,
        mode: SearchMode,
    ) -> list[DocumentHit]:
        """The search proper, on a given snapshot and an already encoded query."""
        allowed = state.allowed_mask(filters)
        config = self.fusion
        depth = max(config.depth, 4 * k)
        if mode == "bm25":
            rows, scores = state.lexical.search(query, k=depth, allowed=allowed)
            return state.group(rows, scores, k=k)
        assert query_vector is not None
        if mode == "title":
            return self._search_titles(state, query_vector, k=k, allowed=allowed)
        dense_rows, dense_scores = state.dense.search(query_vector, k=depth, allowed=allowed)
        if mode == "dense":
            return state.group(dense_rows, dense_scores, k=k)
        lexical_all = state.lexical.scores(query)
        if allowed is not None:
            lexical_all = np.where(allowed, lexical_all, np.float32(0.0))
        lexical_rows = top_positive(lexical_all, depth)[0]
        title_sim = None
        parts = [dense_rows, lexical_rows]
        if config.uses_title_vectors:
            title_sim = self.title_vectors(state) @ query_vector.astype(np.float32)
            parts.append(self._title_candidate_rows(state, title_sim, depth, allowed))
        candidates = np.unique(np.concatenate(parts)).astype(np.int64)
        if len(candidates) == 0:
            return []
        dense = state.dense.scores_for(query_vector, candidates).astype(np.float64)
        fused = _fuse(
            config,
            candidates,
            dense=dense,
            lexical=lexical_all[candidates].astype(np.float64),
            dense_rows=dense_rows,
            lexical_rows=lexical_rows,
        )
        # With the body weighted out, a tiny share still picks each document's passage.
        fused = max(config.body_weight, 1e-6) * fused
        words = set(tokenize(query)) if config.title_weight > 0 else set()
        if not words and title_sim is None:
            return state.group(candidates, fused, k=k)

        def bonus(ordinals: Sequence[int]) -> npt.NDArray[np.float32]:
            total = np.zeros(len(ordinals), dtype=np.float64)
            if words:
                total += config.title_weight * state.title_matches(words, ordinals)
            if title_sim is not None:
                sims = title_sim[np.asarray(ordinals, dtype=np.int64)].astype(np.float64)
                total += config.title_dense_weight * _normalise(sims, config.normalisation)
            return total.astype(np.float32)

        return state.group(candidates, fused, k=k, doc_bonus=bonus)

    def _title_candidate_rows(
        self,
        state: IndexState,
        title_sim: npt.NDArray[np.float32],
        depth: int,
        allowed: npt.NDArray[np.bool_] | None,
    ) -> npt.NDArray[np.int64]:
        """Chunk rows of the documents whose titles are nearest the query."""
        rows: list[int] = []
        taken = 0
        for ordinal in np.argsort(-title_sim, kind="stable").tolist():
            doc_rows = state.doc_rows[state.doc_ids[ordinal]]
            if allowed is not None:
                doc_rows = tuple(r for r in doc_rows if allowed[r])
            if doc_rows:
                rows.extend(doc_rows)
                taken += 1
                if taken >= depth:
                    break
        return np.asarray(rows, dtype=np.int64)

    def _search_titles(
        self,
        state: IndexState,
        query_vector: npt.NDArray[np.float32],
        *,
        k: int,
        allowed: npt.NDArray[np.bool_] | None,
    ) -> list[DocumentHit]:
        """Dense retrieval on the title field alone; each hit cites its closest passage."""
        title_sim = self.title_vectors(state) @ query_vector.astype(np.float32)
        candidates = self._title_candidate_rows(state, title_sim, max(k, 1), allowed)
        if len(candidates) == 0:
            return []
        passage = 1e-6 * state.dense.scores_for(query_vector, candidates).astype(np.float64)

        def bonus(ordinals: Sequence[int]) -> npt.NDArray[np.float32]:
            return title_sim[np.asarray(ordinals, dtype=np.int64)].astype(np.float32)

        return state.group(candidates, passage, k=k, doc_bonus=bonus)


def _fuse(
    config: FusionConfig,
    candidates: npt.NDArray[np.int64],
    *,
    dense: npt.NDArray[np.float64],
    lexical: npt.NDArray[np.float64],
    dense_rows: npt.NDArray[np.int64],
    lexical_rows: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """The fused body score of each candidate chunk under ``config`` (read once per
    search: a worker may switch weights while a search runs)."""
    if config.method == "rrf":
        return _rrf(dense_rows, candidates, config.rrf_k) + _rrf(
            lexical_rows, candidates, config.rrf_k
        )
    weight = config.dense_weight
    return weight * _normalise(dense, config.normalisation) + (1.0 - weight) * _normalise(
        lexical, config.normalisation
    )
