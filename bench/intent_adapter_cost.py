"""Serving cost of the embedding adapter: one message and a batch of 32, numpy only.

Random weights of the shipped shape (384-d input, ``--hidden`` units, ``--labels`` outputs):
the cost depends on the shapes, not on the values.

    .venv/bin/python bench/intent_adapter_cost.py [--hidden 1024] [--labels 77]
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from models.embedding_adapter import EmbeddingAdapter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--labels", type=int, default=77)
    parser.add_argument("--dimension", type=int, default=384)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    adapter = EmbeddingAdapter(
        w1=rng.normal(size=(args.dimension, args.hidden)).astype(np.float32),
        b1=np.zeros(args.hidden, np.float32),
        w2=rng.normal(size=(args.hidden, args.labels)).astype(np.float32),
        b2=np.zeros(args.labels, np.float32),
    )
    for batch in (1, 32):
        x = rng.normal(size=(batch, args.dimension)).astype(np.float32)
        runs = 2000 if batch == 1 else 200
        best = min(timeit.repeat(lambda x=x: adapter.log_proba(x), number=runs, repeat=5)) / runs
        per_message = best * 1e3 / batch
        print(f"batch {batch:>2}: {best * 1e3:.3f} ms per call, {per_message:.4f} ms/message")
    size = sum(a.nbytes for a in (adapter.w1, adapter.b1, adapter.w2, adapter.b2))
    print(f"weights: {size / 1e6:.2f} MB (float32)")


if __name__ == "__main__":
    main()
