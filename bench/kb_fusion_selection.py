"""How the hybrid fusion defaults were chosen: dense, BM25, RRF and weighted fusion compared.

Runs every fusion candidate on the sample help centre's development queries with the real
encoder, and repeats the choice with two-fold cross-validation (choose on half the queries,
report on the other half) to show the chosen setting is not just fitted to the queries.
A candidate is admissible only if it is at least as good as both dense and BM25 alone on
every metric of the tuning half; the admissible one with the best mean metric wins.

    .venv/bin/python bench/kb_fusion_selection.py [--index DIR]

With ``--index`` an existing index (built by ``triage kb ingest``) is used instead of
embedding the sample help centre again.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb_index.document_loader import load_documents
from kb_index.evaluation import METRIC_KEYS, EvalQuery, evaluate, load_queries
from kb_index.hybrid_retriever import FusionConfig, SearchMode
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import DEV_QUERIES_PATH, SAMPLE_HELP_CENTRE_DIR
from models.sentence_encoder import SentenceTransformerEncoder

CANDIDATES = [FusionConfig(method="rrf", rrf_k=k, title_weight=0.0) for k in (10, 30, 60)] + [
    FusionConfig(dense_weight=w, normalisation=n, title_weight=t)
    for n in ("minmax", "max")
    for w in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
    for t in (0.0, 0.1, 0.2, 0.3)
]


def _label(config: FusionConfig) -> str:
    if config.method == "rrf":
        return f"rrf k={config.rrf_k}"
    return f"weighted {config.normalisation} w={config.dense_weight} title={config.title_weight}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--queries", type=Path, default=DEV_QUERIES_PATH)
    args = parser.parse_args()

    encoder = SentenceTransformerEncoder().load()
    if args.index is not None:
        kb = KnowledgeBase.open(args.index, encoder=encoder)
    else:
        kb = KnowledgeBase(encoder=encoder)
        kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    queries = load_queries(args.queries)
    vectors = dict(
        zip((q.query for q in queries), encoder.encode([q.query for q in queries]), strict=True)
    )
    retriever = kb.retriever

    def run(
        mode: SearchMode, fusion: FusionConfig, subset: Sequence[EvalQuery]
    ) -> dict[str, float]:
        retriever.fusion = fusion
        metrics, _ = evaluate(
            lambda q: [
                h.doc_id for h in retriever.search(q, k=10, mode=mode, query_vector=vectors[q])
            ],
            subset,
        )
        return metrics

    def admissible(
        subset: Sequence[EvalQuery],
    ) -> list[tuple[float, FusionConfig, dict[str, float]]]:
        base = {m: run(m, FusionConfig(), subset) for m in ("dense", "bm25")}
        out = []
        for config in CANDIDATES:
            metrics = run("hybrid", config, subset)
            if all(metrics[k] >= max(base["dense"][k], base["bm25"][k]) for k in METRIC_KEYS):
                out.append((float(np.mean([metrics[k] for k in METRIC_KEYS])), config, metrics))
        return sorted(out, key=lambda item: -item[0])

    def row(name: str, metrics: dict[str, float]) -> str:
        return f"| {name:<44} | " + " | ".join(f"{metrics[k]:.4f}" for k in METRIC_KEYS) + " |"

    header = "| " + "run".ljust(44) + " | " + " | ".join(METRIC_KEYS) + " |"
    print(f"{len(queries)} queries, {len(kb)} documents, {kb.state.chunk_count} chunks\n")
    print(header)
    print("|" + "---|" * (len(METRIC_KEYS) + 1))
    print(row("dense", run("dense", FusionConfig(), queries)))
    print(row("bm25", run("bm25", FusionConfig(), queries)))
    for config in CANDIDATES[:3]:
        print(row(_label(config), run("hybrid", config, queries)))
    print(row("default " + _label(FusionConfig()), run("hybrid", FusionConfig(), queries)))
    ranked = admissible(queries)
    print(f"\n{len(ranked)} of {len(CANDIDATES)} candidates are never worse than dense and BM25:")
    for _, config, metrics in ranked[:5]:
        print(row(_label(config), metrics))

    print("\ntwo-fold check (choose on one half, report on the other):")
    halves = [queries[0::2], queries[1::2]]
    for fold in (0, 1):
        tune, held_out = halves[fold], halves[1 - fold]
        best = admissible(tune)[0][1]
        print(f"fold {fold}: chose {_label(best)}")
        for mode in ("dense", "bm25", "hybrid"):
            print(row(f"  held-out {mode}", run(mode, best, held_out)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
