"""Retrieval metrics on a query set: recall@1, recall@5, MRR@10 and nDCG@10.

A query set is JSONL, one ``{"query": ..., "relevant": ["doc id", ...]}`` per line.
Relevance is binary and per document. ``recall@k`` is the share of a query's relevant
documents found in the top ``k`` (averaged over queries); ``mrr@10`` uses the rank of
the first relevant document; ``ndcg@10`` uses binary gains with a log2 discount.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.errors import InvalidInputError
from models.jsonl_lines import jsonl_objects

METRIC_KEYS = ("recall@1", "recall@5", "mrr@10", "ndcg@10")
EVAL_DEPTH = 10


@dataclass(frozen=True)
class EvalQuery:
    """One query and the ids of the documents that answer it."""

    query: str
    relevant: tuple[str, ...]


@dataclass(frozen=True)
class QueryOutcome:
    """What one query got back, for reports and failure analysis."""

    query: str
    relevant: tuple[str, ...]
    ranked: tuple[str, ...]
    first_relevant_rank: int | None


def load_queries(path: Path) -> list[EvalQuery]:
    """Read a JSONL query set; every line needs a non-empty query and relevant list."""
    queries = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read query set ({exc})") from exc
    for number, raw in jsonl_objects(lines, source=path):
        query, relevant = raw.get("query"), raw.get("relevant")
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError(f"{path}:{number}: 'query' must be a non-empty string")
        if (
            not isinstance(relevant, list)
            or not relevant
            or not all(isinstance(r, str) for r in relevant)
        ):
            raise InvalidInputError(f"{path}:{number}: 'relevant' must be a non-empty id list")
        queries.append(EvalQuery(query=query, relevant=tuple(relevant)))
    if not queries:
        raise InvalidInputError(f"{path}: the query set is empty")
    return queries


def score_ranking(ranked: Sequence[str], relevant: Sequence[str]) -> dict[str, float]:
    """Metrics of one ranked id list against its relevant ids."""
    wanted = set(relevant)
    top = list(ranked[:EVAL_DEPTH])
    first = next((i for i, doc_id in enumerate(top, start=1) if doc_id in wanted), None)
    dcg = sum(1.0 / math.log2(i + 1) for i, doc_id in enumerate(top, start=1) if doc_id in wanted)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(wanted), EVAL_DEPTH) + 1))
    return {
        "recall@1": len(wanted.intersection(top[:1])) / len(wanted),
        "recall@5": len(wanted.intersection(top[:5])) / len(wanted),
        "mrr@10": 1.0 / first if first is not None else 0.0,
        "ndcg@10": dcg / ideal if ideal > 0 else 0.0,
    }


def evaluate(
    search: Callable[[str], Sequence[str]], queries: Sequence[EvalQuery]
) -> tuple[dict[str, float], list[QueryOutcome]]:
    """Mean metrics of ``search`` (query → ranked doc ids) over ``queries``, and the outcomes."""
    totals = dict.fromkeys(METRIC_KEYS, 0.0)
    outcomes = []
    for item in queries:
        ranked = list(search(item.query))
        scores = score_ranking(ranked, item.relevant)
        for key in METRIC_KEYS:
            totals[key] += scores[key]
        first = next((i for i, d in enumerate(ranked[:EVAL_DEPTH], 1) if d in item.relevant), None)
        outcomes.append(QueryOutcome(item.query, item.relevant, tuple(ranked), first))
    metrics = {key: round(value / len(queries), 4) for key, value in totals.items()}
    return metrics, outcomes
