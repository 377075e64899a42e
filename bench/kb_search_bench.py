"""KB index build time and search latency at 1k, 10k and 100k chunks.

Synthetic but shaped like a help centre: chunk texts of ~60 words drawn from a Zipf
vocabulary, 384-d vectors clustered around topic centroids (uniform random vectors are an
unrealistically hard case for HNSW), ten chunks per document, a tag and visibility per
document. Queries are a few words of one chunk plus that chunk's vector with noise.

Latency excludes query encoding (the vector is passed in): it covers dense search,
BM25 scoring, fusion, grouping and snippets, i.e. everything ``POST /v1/kb/search`` does
after the encoder. For each size both dense index kinds are measured, with HNSW's
recall@10 against the exact index, which is how ``DenseConfig.exact_max_rows`` was set.

    .venv/bin/python bench/kb_search_bench.py                  # 1k, 10k, 100k
    .venv/bin/python bench/kb_search_bench.py --sizes 1000 20000 --queries 300
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import faiss
import numpy as np

from kb_index.dense_retriever import DenseConfig, DenseRetriever
from kb_index.documents import Chunk, KbDocument, SearchFilters
from kb_index.hybrid_retriever import FusionConfig, HybridRetriever, SearchMode
from kb_index.index_state import IndexState
from kb_index.lexical_retriever import LexicalRetriever

DIMENSION = 384
CHUNKS_PER_DOC = 10
WORDS_PER_CHUNK = 60


class _NoEncoder:
    """Latency is measured without encoding; any call to encode() is a bench bug."""

    model_id = "bench/no-encoder"
    dimension = DIMENSION

    def encode(self, texts: object, *, batch_size: int = 64) -> np.ndarray:
        raise AssertionError("the bench passes query vectors in")


def _vocabulary(rng: np.random.Generator, size: int = 6000) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(size)]


def synthetic_corpus(
    n_chunks: int, rng: np.random.Generator
) -> tuple[dict[str, KbDocument], list[Chunk], np.ndarray]:
    """Documents, chunks and normalised vectors for ``n_chunks`` chunks."""
    vocab = _vocabulary(rng)
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    n_docs = max(1, n_chunks // CHUNKS_PER_DOC)
    centroids = rng.normal(size=(max(8, n_docs // 4), DIMENSION)).astype(np.float32)
    doc_centroid = rng.integers(0, len(centroids), size=n_docs)
    words = rng.choice(len(vocab), size=(n_chunks, WORDS_PER_CHUNK), p=weights)
    documents: dict[str, KbDocument] = {}
    chunks: list[Chunk] = []
    vectors = np.empty((n_chunks, DIMENSION), dtype=np.float32)
    for d in range(n_docs):
        doc_id = f"doc-{d}"
        rows = range(d * CHUNKS_PER_DOC, min(n_chunks, (d + 1) * CHUNKS_PER_DOC))
        texts = [" ".join(vocab[w] for w in words[r]) for r in rows]
        text = "\n\n".join(texts)
        documents[doc_id] = KbDocument(
            id=doc_id,
            title=" ".join(vocab[w] for w in words[rows[0], :4]),
            text=text,
            tags=(f"topic-{d % 20}",),
            visibility="internal" if d % 10 == 0 else "public",
        )
        offset = 0
        for i, (row, chunk_text) in enumerate(zip(rows, texts, strict=True)):
            chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}#{i}",
                    doc_id=doc_id,
                    title=documents[doc_id].title,
                    heading_path=(),
                    url=None,
                    start=offset,
                    end=offset + len(chunk_text),
                    text=chunk_text,
                )
            )
            offset += len(chunk_text) + 2
            vectors[row] = centroids[doc_centroid[d]] + 0.8 * rng.normal(size=DIMENSION)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return documents, chunks, vectors


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def bench_size(n_chunks: int, *, queries: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    documents, chunks, vectors = synthetic_corpus(n_chunks, rng)
    picks = rng.integers(0, n_chunks, size=queries)
    query_texts = [" ".join(chunks[p].text.split()[5:11]) for p in picks]
    noise = rng.normal(size=(queries, DIMENSION)).astype(np.float32) * 0.05
    query_vectors = vectors[picks] + noise
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)

    started = time.perf_counter()
    lexical = LexicalRetriever([c.embedding_text() for c in chunks])
    bm25_seconds = time.perf_counter() - started

    exact_ids = None
    for kind, config in (
        ("flat", DenseConfig(exact_max_rows=n_chunks)),
        ("hnsw", DenseConfig(exact_max_rows=0)),
    ):
        started = time.perf_counter()
        dense = DenseRetriever(vectors, alive=np.ones(n_chunks, dtype=bool), config=config)
        dense_seconds = time.perf_counter() - started
        assert dense.kind == kind
        state = IndexState.build(documents=documents, rows=chunks, dense=dense, lexical=lexical)
        retriever = HybridRetriever(lambda s=state: s, encoder=_NoEncoder(), fusion=FusionConfig())

        ids = [dense.search(q, k=10)[0] for q in query_vectors]
        if kind == "flat":
            exact_ids = ids
            recall = 1.0
        else:
            assert exact_ids is not None
            recall = float(
                np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact_ids, strict=True)])
            )

        row = [f"{n_chunks:>7}", f"{kind:<4}", f"{dense_seconds:8.2f}", f"{bm25_seconds:7.2f}"]
        modes: tuple[tuple[SearchMode, SearchFilters | None], ...] = (
            ("dense", None),
            ("bm25", None),
            ("hybrid", None),
            ("hybrid", SearchFilters(visibility=("public",), tags=("topic-3", "topic-7"))),
        )
        for mode, filters in modes:
            timings = []
            for text, vector in zip(query_texts, query_vectors, strict=True):
                started = time.perf_counter()
                retriever.search_state(state, text, vector, k=5, filters=filters, mode=mode)
                timings.append((time.perf_counter() - started) * 1000)
            p50, p95 = _percentiles(timings[5:])  # the first calls warm caches
            row.append(f"{p50:6.2f} / {p95:6.2f}")
        row.append(f"{recall:.3f}")
        print(" | ".join(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} logical cores "
        f"(faiss threads {faiss.omp_get_max_threads()}), {platform.processor() or 'cpu ?'}, "
        f"python {platform.python_version()}, faiss {faiss.__version__}"
    )
    print("latency in ms p50 / p95, query encoding excluded; build in seconds")
    header = [
        " chunks", "kind", "dense s", "bm25 s", "dense ms", "bm25 ms", "hybrid ms",
        "hybrid+filter ms", "recall@10 vs exact",
    ]  # fmt: skip
    print(" | ".join(header))
    for size in args.sizes:
        bench_size(size, queries=args.queries, seed=args.seed)


if __name__ == "__main__":
    main()
