"""Hybrid retrieval: dense and BM25 chunk scores fused, then grouped per document.

Both retrievers propose their best ``depth`` chunks; for the union of those candidates
the *exact* score from each side is known (dense: dot product with the stored vector;
BM25: the full score array), so a candidate one side missed is still scored fairly.
Fusion is either reciprocal-rank fusion or a weighted sum of normalised scores, plus an
optional bonus for query words found in a document's title. The defaults were chosen on
the development query set (see ``FusionConfig``); ``dense_weight=1`` is exactly dense
retrieval and ``0`` exactly BM25, so the weighted form can always match the better one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from kb_index.documents import DocumentHit, SearchFilters
from kb_index.index_state import IndexState
from kb_index.lexical_retriever import tokenize, top_positive
from models.errors import InvalidInputError
from models.protocols import Encoder

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "dense", "bm25"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "bm25")
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
        rrf_k: the constant of reciprocal-rank fusion.
        depth: candidate chunks taken from each retriever.
    """

    method: FusionMethod = "weighted"
    dense_weight: float = 0.9
    normalisation: Normalisation = "minmax"
    title_weight: float = 0.3
    rrf_k: int = 60
    depth: int = 100

    def __post_init__(self) -> None:
        if not 0.0 <= self.dense_weight <= 1.0:
            raise InvalidInputError("dense_weight must be in [0, 1]")
        if self.title_weight < 0:
            raise InvalidInputError("title_weight must not be negative")
        if self.depth < 1 or self.rrf_k < 1:
            raise InvalidInputError("depth and rrf_k must be positive")

    def to_json(self) -> dict[str, Any]:
        """Recorded in the index manifest and evaluation reports."""
        return {
            "method": self.method,
            "dense_weight": self.dense_weight,
            "normalisation": self.normalisation,
            "title_weight": self.title_weight,
            "rrf_k": self.rrf_k,
            "depth": self.depth,
        }


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
        depth = max(self.fusion.depth, 4 * k)
        if mode == "bm25":
            rows, scores = state.lexical.search(query, k=depth, allowed=allowed)
            return state.group(rows, scores, k=k)
        assert query_vector is not None
        dense_rows, dense_scores = state.dense.search(query_vector, k=depth, allowed=allowed)
        if mode == "dense":
            return state.group(dense_rows, dense_scores, k=k)
        lexical_all = state.lexical.scores(query)
        if allowed is not None:
            lexical_all = np.where(allowed, lexical_all, np.float32(0.0))
        lexical_rows = top_positive(lexical_all, depth)[0]
        candidates = np.union1d(dense_rows, lexical_rows).astype(np.int64)
        if len(candidates) == 0:
            return []
        fused = self._fuse(
            candidates,
            dense=state.dense.scores_for(query_vector, candidates).astype(np.float64),
            lexical=lexical_all[candidates].astype(np.float64),
            dense_rows=dense_rows,
            lexical_rows=lexical_rows,
        )
        bonus = None
        if self.fusion.title_weight > 0:
            weight = np.float32(self.fusion.title_weight)
            words = set(tokenize(query))

            def bonus(ordinals: Sequence[int]) -> npt.NDArray[np.float32]:
                return weight * state.title_matches(words, ordinals)

        return state.group(candidates, fused, k=k, doc_bonus=bonus)

    def _fuse(
        self,
        candidates: npt.NDArray[np.int64],
        *,
        dense: npt.NDArray[np.float64],
        lexical: npt.NDArray[np.float64],
        dense_rows: npt.NDArray[np.int64],
        lexical_rows: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.float64]:
        config = self.fusion
        if config.method == "rrf":
            return _rrf(dense_rows, candidates, config.rrf_k) + _rrf(
                lexical_rows, candidates, config.rrf_k
            )
        weight = config.dense_weight
        return weight * _normalise(dense, config.normalisation) + (1.0 - weight) * _normalise(
            lexical, config.normalisation
        )
