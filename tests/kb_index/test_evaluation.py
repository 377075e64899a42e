"""Retrieval metrics on hand-checked rankings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kb_index.evaluation import METRIC_KEYS, EvalQuery, evaluate, load_queries, score_ranking
from kb_index.sample_help_centre import DEV_QUERIES_PATH, SAMPLE_HELP_CENTRE_DIR
from models.errors import InvalidInputError


def test_metrics_of_a_single_ranking() -> None:
    scores = score_ranking(["x", "a", "y", "b"], ["a", "b"])
    assert scores["recall@1"] == 0.0
    assert scores["recall@5"] == 1.0
    assert scores["mrr@10"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert scores["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)


def test_evaluate_averages_over_queries_with_exact_keys() -> None:
    queries = [EvalQuery("q1", ("a",)), EvalQuery("q2", ("b",))]
    rankings = {"q1": ["a", "b"], "q2": ["a", "c"]}
    metrics, outcomes = evaluate(lambda q: rankings[q], queries)
    assert tuple(metrics) == METRIC_KEYS
    assert metrics["recall@1"] == 0.5 and metrics["mrr@10"] == 0.5
    assert [o.first_relevant_rank for o in outcomes] == [1, None]


def test_query_set_lines_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "refund?", "relevant": []}\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"q\.jsonl:1"):
        load_queries(path)


def test_dev_query_set_is_large_and_points_at_real_articles() -> None:
    queries = load_queries(DEV_QUERIES_PATH)
    assert len(queries) >= 100
    ids = {p.read_text(encoding="utf-8").split("id: ", 1)[1].split("\n", 1)[0]
           for p in SAMPLE_HELP_CENTRE_DIR.glob("*.md")}  # fmt: skip
    assert {r for q in queries for r in q.relevant} <= ids
    assert len({q.query for q in queries}) == len(queries)
