"""Choosing a collection's fusion weights on its development queries.

Collections differ: on help-centre articles the body carries most of the answer, on a
FAQ the question field matches a rephrasing better than question and answer together.
So the weights are chosen per collection, on that collection's development queries, from
a grid that contains every single retriever (dense, BM25, the title field alone). The
chosen fusion therefore never scores below the best single retriever on the queries it
was chosen on; whether that carries over to fresh queries is what a held-out query set
(or ``bench/kb_fusion_selection.py``'s two-fold check) shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kb_index.evaluation import EVAL_DEPTH, EvalQuery, evaluate
from kb_index.hybrid_retriever import FusionConfig, HybridRetriever, SearchMode
from kb_index.index_state import IndexState
from models.errors import InvalidInputError

logger = logging.getLogger(__name__)

#: The single retrievers a fusion must not lose to.
SINGLE_MODES: tuple[SearchMode, ...] = ("dense", "bm25", "title")
#: The selection order: recall@1 first, then the rank of the first relevant document.
SELECTION_KEYS = ("recall@1", "mrr@10", "recall@5")


def fusion_grid() -> list[FusionConfig]:
    """Candidate fusions, the current default first (it wins ties)."""
    grid = [FusionConfig()]
    for dense_weight in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.0):
        for title_weight in (0.0, 0.15, 0.3):
            for title_dense_weight in (0.0, 0.25, 0.5, 1.0):
                grid.append(
                    FusionConfig(
                        dense_weight=dense_weight,
                        title_weight=title_weight,
                        title_dense_weight=title_dense_weight,
                    )
                )
    for dense_weight in (1.0, 0.9, 0.7):
        grid.append(
            FusionConfig(
                dense_weight=dense_weight, title_weight=0.0, title_dense_weight=1.0, body_weight=0.5
            )
        )
    # The title field alone, as a point of the weighted form.
    grid.append(
        FusionConfig(dense_weight=1.0, title_weight=0.0, title_dense_weight=1.0, body_weight=0.0)
    )
    unique: dict[str, FusionConfig] = {}
    for config in grid:
        unique.setdefault(repr(sorted(config.to_json().items())), config)
    return list(unique.values())


@dataclass(frozen=True)
class FusionSelection:
    """The chosen fusion and the figures it was chosen on.

    Attributes:
        fusion: the chosen weights.
        hybrid: metrics of the chosen fusion on the selection queries.
        single: metrics of each single retriever (``dense``, ``bm25``, ``title``) there.
        candidates: how many fusions were compared.
        queries: how many queries they were compared on.
    """

    fusion: FusionConfig
    hybrid: dict[str, float]
    single: dict[str, dict[str, float]]
    candidates: int
    queries: int


def _key(metrics: dict[str, float]) -> tuple[float, ...]:
    return tuple(metrics[key] for key in SELECTION_KEYS)


class FusionEvaluator:
    """Runs a retriever on one snapshot over a query set whose vectors are encoded once.

    Args:
        retriever: the retriever whose ``fusion`` is varied (restored afterwards).
        state: the index snapshot.
        queries: the query set.
        vectors: one query vector per query, in order (``None``: encoded here).
    """

    def __init__(
        self,
        retriever: HybridRetriever,
        state: IndexState,
        queries: Sequence[EvalQuery],
        *,
        vectors: npt.NDArray[np.float32] | None = None,
    ) -> None:
        if not queries:
            raise InvalidInputError("the query set is empty")
        self.retriever = retriever
        self.state = state
        self.queries = list(queries)
        if vectors is None:
            vectors = retriever.encoder.encode([q.query for q in self.queries])
        if len(vectors) != len(self.queries):
            raise InvalidInputError("one query vector per query is needed")
        self._vectors = {q.query: vectors[i] for i, q in enumerate(self.queries)}

    def metrics(
        self,
        mode: SearchMode,
        fusion: FusionConfig | None = None,
        subset: Sequence[EvalQuery] | None = None,
    ) -> dict[str, float]:
        """Recall@1/5, MRR@10 and nDCG@10 of one mode (and fusion) on the queries."""
        search = self._search(mode, fusion)
        metrics, _ = evaluate(search, self.queries if subset is None else subset)
        return metrics

    def _search(self, mode: SearchMode, fusion: FusionConfig | None) -> Callable[[str], list[str]]:
        retriever, state, vectors = self.retriever, self.state, self._vectors
        chosen = fusion or retriever.fusion

        def search(query: str) -> list[str]:
            previous = retriever.fusion
            retriever.fusion = chosen
            try:
                hits = retriever.search_state(
                    state, query, vectors[query], k=EVAL_DEPTH, filters=None, mode=mode
                )
            finally:
                retriever.fusion = previous
            return [h.doc_id for h in hits]

        return search

    def select(
        self,
        grid: Sequence[FusionConfig] | None = None,
        subset: Sequence[EvalQuery] | None = None,
    ) -> FusionSelection:
        """The grid's best fusion by recall@1, then MRR@10, then recall@5 (earlier wins ties)."""
        candidates = list(grid) if grid is not None else fusion_grid()
        if not candidates:
            raise InvalidInputError("no fusion candidates to choose from")
        best: tuple[tuple[float, ...], FusionConfig, dict[str, float]] | None = None
        for config in candidates:
            metrics = self.metrics("hybrid", config, subset)
            if best is None or _key(metrics) > best[0]:
                best = (_key(metrics), config, metrics)
        assert best is not None
        single: dict[str, dict[str, float]] = {
            mode: self.metrics(mode, None, subset) for mode in SINGLE_MODES
        }
        n = len(self.queries if subset is None else subset)
        logger.info("chose fusion %s on %s queries", best[1].to_json(), n)
        return FusionSelection(
            fusion=best[1], hybrid=best[2], single=single, candidates=len(candidates), queries=n
        )
