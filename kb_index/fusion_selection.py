"""Choosing a collection's fusion weights on its development queries.

Collections differ: on help-centre articles the body carries most of the answer, on a
FAQ the question field matches a rephrasing better than question and answer together.
So the weights are chosen per collection, on that collection's development queries, from
a grid that contains every single retriever (dense, BM25, the title field alone). A fusion
is only chosen if it matches the best single retriever on every part of the development
queries (not just on average: a gain resting on a few queries does not carry over), so
it never scores below that retriever where it was chosen; whether that carries over to
fresh queries is what a held-out query set (``bench/kb_fusion_selection.py``) shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kb_index.evaluation import EVAL_DEPTH, EvalQuery, evaluate, score_ranking
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
        baseline: the best single retriever there, which the fusion must not lose to.
    """

    fusion: FusionConfig
    hybrid: dict[str, float]
    single: dict[str, dict[str, float]]
    candidates: int
    queries: int
    baseline: str = "dense"


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

    def per_query(
        self,
        mode: SearchMode,
        fusion: FusionConfig | None = None,
        subset: Sequence[EvalQuery] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Per query, the ``SELECTION_KEYS`` metrics (rows in query order)."""
        items = self.queries if subset is None else list(subset)
        search = self._search(mode, fusion)
        return np.array(
            [
                [score_ranking(search(q.query), q.relevant)[key] for key in SELECTION_KEYS]
                for q in items
            ],
            dtype=np.float64,
        )

    def select(
        self,
        grid: Sequence[FusionConfig] | None = None,
        subset: Sequence[EvalQuery] | None = None,
        *,
        folds: int = 5,
    ) -> FusionSelection:
        """The grid's best fusion that is never worse than the best single retriever.

        The best single retriever (by recall@1, then MRR@10, then recall@5) is the
        baseline; a fusion is admissible only if its recall@1 is at least the baseline's on
        every one of ``folds`` interleaved parts of the queries, not just on their mean, so
        a gain that rests on a few lucky queries does not count. Among admissible fusions
        the best by the same order wins (earlier in the grid on ties); the baseline's own
        point of the grid is always admissible.
        """
        candidates = list(grid) if grid is not None else fusion_grid()
        if not candidates:
            raise InvalidInputError("no fusion candidates to choose from")
        items = self.queries if subset is None else list(subset)
        parts = [np.arange(len(items))[k::folds] for k in range(max(1, min(folds, len(items))))]

        def fold_recall(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return np.array([scores[part, 0].mean() for part in parts])

        singles = {mode: self.per_query(mode, None, items) for mode in SINGLE_MODES}
        base_mode = max(SINGLE_MODES, key=lambda m: tuple(singles[m].mean(axis=0)))
        base_folds = fold_recall(singles[base_mode])
        best: tuple[tuple[float, ...], FusionConfig] | None = None
        for config in candidates:
            scores = self.per_query("hybrid", config, items)
            if (fold_recall(scores) < base_folds - 1e-12).any():
                continue
            key = tuple(float(v) for v in scores.mean(axis=0))
            if best is None or key > best[0]:
                best = (key, config)
        if best is None:
            # No candidate matched the baseline everywhere: its own grid point, if present.
            best = (tuple(singles[base_mode].mean(axis=0)), _single_point(base_mode))
        fusion = best[1]
        hybrid = self.metrics("hybrid", fusion, items)
        single: dict[str, dict[str, float]] = {
            mode: self.metrics(mode, None, items) for mode in SINGLE_MODES
        }
        logger.info(
            "chose fusion %s on %s queries (baseline %s)", fusion.to_json(), len(items), base_mode
        )
        return FusionSelection(
            fusion=fusion,
            hybrid=hybrid,
            single=single,
            candidates=len(candidates),
            queries=len(items),
            baseline=base_mode,
        )


def _single_point(mode: SearchMode) -> FusionConfig:
    """The point of the weighted form that ranks like one single retriever."""
    if mode == "bm25":
        return FusionConfig(dense_weight=0.0, title_weight=0.0)
    if mode == "title":
        return FusionConfig(title_weight=0.0, title_dense_weight=1.0, body_weight=0.0)
    return FusionConfig(dense_weight=1.0, title_weight=0.0)
