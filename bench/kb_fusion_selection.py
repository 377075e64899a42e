"""Per-collection fusion: every single retriever and the chosen fusion, on two collections.

For each collection the fusion weights are chosen on its development queries
(``kb_index.fusion_selection``, the same choice `triage kb tune-fusion` records), then
reported beside dense, BM25 and the title field alone:

- the sample help centre (44 articles) with ``dev_queries.jsonl``: there is no separate
  test set, so a two-fold check (choose on one half, report on the other) shows whether
  the choice carries over;
- a FAQ built from Bitext (`triage kb build-faq`: 27 question/answer entries): weights
  chosen on its dev queries, figures on its disjoint test queries.

Uses the service's encoder (``TRIAGE_ENCODER_BACKEND``, default onnx-int8).

    nice -n 10 .venv/bin/python bench/kb_fusion_selection.py [--faq-data BITEXT_CSV]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kb_index.document_loader import load_documents
from kb_index.evaluation import METRIC_KEYS, EvalQuery, load_queries
from kb_index.fusion_selection import SINGLE_MODES, FusionEvaluator
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import DEV_QUERIES_PATH, SAMPLE_HELP_CENTRE_DIR
from training.command_helpers import load_encoder
from training.faq_collection import build_faq_collection

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _row(name: str, metrics: dict[str, float]) -> str:
    return f"| {name:<34} | " + " | ".join(f"{metrics[k]:.4f}" for k in METRIC_KEYS) + " |"


def _header() -> str:
    return (
        "| "
        + "retriever".ljust(34)
        + " | "
        + " | ".join(METRIC_KEYS)
        + " |\n"
        + "|---" * (len(METRIC_KEYS) + 1)
        + "|"
    )


def _report(
    evaluator: FusionEvaluator, tune: Sequence[EvalQuery], report: Sequence[EvalQuery], label: str
) -> dict[str, float]:
    selection = evaluator.select(subset=tune)
    print(f"\n{label}: chose {json.dumps(selection.fusion.to_json())}")
    print(
        f"({selection.candidates} fusions compared on {len(tune)} queries; figures on "
        f"{len(report)} queries)"
    )
    print(_header())
    best_single = 0.0
    for mode in SINGLE_MODES:
        metrics = evaluator.metrics(mode, subset=report)
        best_single = max(best_single, metrics["recall@1"])
        print(_row(mode, metrics))
    hybrid = evaluator.metrics("hybrid", selection.fusion, report)
    print(_row("hybrid (chosen weights)", hybrid))
    print(f"hybrid recall@1 - best single: {hybrid['recall@1'] - best_single:+.4f}")
    return hybrid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faq-data", type=Path, default=SHARED / "bitext_customer_support.csv")
    args = parser.parse_args()
    encoder = load_encoder()
    print(f"encoder {encoder.model_id}")

    kb = KnowledgeBase(encoder=encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    queries = load_queries(DEV_QUERIES_PATH)
    evaluator = FusionEvaluator(kb.retriever, kb.state, queries)
    print(f"\n## Sample help centre: {len(kb)} articles, {len(queries)} dev queries")
    _report(evaluator, queries, queries, "all dev queries (chosen and reported on the same set)")
    halves = [queries[0::2], queries[1::2]]
    for fold in (0, 1):
        _report(evaluator, halves[fold], halves[1 - fold], f"two-fold check, fold {fold}")

    with tempfile.TemporaryDirectory() as tmp:
        built = build_faq_collection(args.faq_data, Path(tmp))
        faq = KnowledgeBase(encoder=encoder)
        faq.upsert(load_documents([Path(tmp) / "faq.jsonl"]))
        dev = load_queries(Path(tmp) / "dev_queries.jsonl")
        test = load_queries(Path(tmp) / "test_queries.jsonl")
    print(
        f"\n## Bitext FAQ: {built.entries} entries, {len(dev)} dev queries, "
        f"{len(test)} test queries"
    )
    evaluator = FusionEvaluator(faq.retriever, faq.state, [*dev, *test])
    _report(evaluator, dev, dev, "dev queries (chosen and reported on the same set)")
    _report(evaluator, dev, test, "chosen on dev, reported on test")


if __name__ == "__main__":
    main()
