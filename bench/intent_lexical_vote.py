"""Does a nearest-example vote over word overlap add to the intent heads? (issue 15)

The trainer's nearest-example vote reads embedding similarity, and its lexical head is one
linear boundary per intent over hashed n-grams. A vote among the training texts that share
the most words with a message is local *and* lexical: evidence neither part has. Here it
is a fourth part on top of the trainer's fusion (lexical and embedding vote weights chosen
by the trainer's rule on out-of-fold rows, ``bench/intent_stacked_fusion.GlobalWeights``),
its similarity a TF-IDF cosine (sublinear term frequencies; word 1-2-grams or character
2-5-grams within words), alone or averaged with the embedding cosine, turned into vote
shares by the trainer's own ``knn_vote`` (10 neighbours, the same temperature).

It would be kept only if its best weight lifts out-of-fold accuracy (the trainer's five
folds of the 80 %) by more than the trainer's 0.1-point bar; the 20 % columns are printed
for the record and choose nothing.

    triage split --data ../shared/data/banking77_train.csv --label-column label \\
        --out-dir /tmp/banking
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python bench/intent_lexical_vote.py \\
        --train /tmp/banking/train.csv --test /tmp/banking/test.csv --cache /tmp/lexvote-cache

Result (2026-12-01, AVX-512 VNNI host, onnx-int8; the trainer's fusion: out of fold 0.9279,
20 % 0.9364; texts as typed):

| similarity | vote alone, out of fold | fused, best weight (out of fold) | 20 % at that weight |
|---|---|---|---|
| word 1-2-grams | 0.7123 | 0.9294 (0.25): +0.15, over the bar | 0.9364: no change |
| word 1-2-grams + embedding, averaged | 0.8887 | 0.9282 (0.5): +0.03 | 0.9379 |
| character 2-5-grams | 0.8039 | 0.9279 (0): none | 0.9364 |
| character 2-5-grams + embedding, averaged | 0.9037 | 0.9282 (0.25): +0.03 | 0.9384 |

Only the word vote clears the bar, by 12 out-of-fold rows of 8,005, and it changes no
decision's correctness on the 20 %. That is not enough to store every training text's
TF-IDF vector in the artifact and run a sparse search per message: not adopted. The
lexical head and the embedding vote already carry what word overlap knows.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
#: The trainer's bar for keeping a part (``TrainingConfig.vote_tolerance``).
TOLERANCE = 0.001


def vote_shares(sim: FloatArray, ref_y: IntArray, n_labels: int, k: int = 10) -> FloatArray:
    """Log vote shares of each row's ``k`` most similar references (the trainer's vote,
    its neighbours picked as the models pick them)."""
    from models.embedding_distances import best_first, knn_vote

    sims, idx = best_first(sim, k)
    return knn_vote(sims, idx, ref_y, n_labels, k=k, tau=0.05)


def tfidf_similarity(
    make: Callable[[], TfidfVectorizer], ref: list[str], queries: list[str]
) -> FloatArray:
    """Cosine of TF-IDF vectors (fitted on ``ref``) between ``queries`` and ``ref``."""
    vectorizer = make()
    a = vectorizer.fit_transform(ref)
    b = vectorizer.transform(queries)
    return np.asarray((b @ a.T).toarray())


def main() -> None:
    """Out-of-fold and 20 % accuracy of the trainer's fusion with each lexical vote added."""
    from bench.intent_split import add_split_arguments, read_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_split_arguments(parser, split=Path("/tmp/banking"), cache=Path("/tmp/lexvote-cache"))
    args = parser.parse_args()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold

    from bench.intent_stacked_fusion import (
        GlobalWeights,
        cached_embeddings,
        head_outputs,
    )
    from training.intent_training import TrainingConfig

    split = read_split(args.train, args.test)
    texts, test_texts = list(split.train.texts), list(split.test.texts)
    y, y_test, n_labels = split.y, split.y_test, len(split.names)
    emb = cached_embeddings(args.cache, "train", texts, args.backend)
    test_emb = cached_embeddings(args.cache, "test", test_texts, args.backend)
    oof, test = head_outputs(emb, texts, y, test_emb, test_texts, split.names)
    fusion = GlobalWeights().fit(oof, y)
    base, base_test = fusion.logits(oof), fusion.logits(test)
    base_acc = float((base.argmax(1) == y).mean())
    print(
        f"trainer's fusion ({fusion.describe()}): out of fold {base_acc:.4f}, "
        f"20 % {(base_test.argmax(1) == y_test).mean():.4f}"
    )
    config = TrainingConfig()
    folds = list(
        StratifiedKFold(config.folds, shuffle=True, random_state=config.seed).split(emb, y)
    )
    similarities: dict[str, Callable[[], TfidfVectorizer]] = {
        "word 1-2-grams": lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        "character 2-5-grams": lambda: TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
        ),
    }
    for name, make in similarities.items():
        for mix in (0.0, 0.5):  # share of the embedding cosine in the similarity
            held = np.zeros((len(y), n_labels))
            for tr, te in folds:
                sim = tfidf_similarity(make, [texts[i] for i in tr], [texts[i] for i in te])
                held[te] = vote_shares(
                    (1 - mix) * sim + mix * (emb[te] @ emb[tr].T), y[tr], n_labels
                )
            sim = tfidf_similarity(make, texts, test_texts)
            on_test = vote_shares((1 - mix) * sim + mix * (test_emb @ emb.T), y, n_labels)
            accs = [float(((base + w * held).argmax(1) == y).mean()) for w in WEIGHTS]
            best = int(np.argmax(accs))
            kept = accs[best] - base_acc > TOLERANCE
            test_acc = float(((base_test + WEIGHTS[best] * on_test).argmax(1) == y_test).mean())
            label = f"{name}{' + embedding' if mix else ''}"
            print(
                f"{label:36s} alone {(held.argmax(1) == y).mean():.4f}; fused by weight "
                + " ".join(f"{w:g}:{a:.4f}" for w, a in zip(WEIGHTS, accs, strict=True))
                + f"; {'kept' if kept else 'not kept'} (20 % at weight {WEIGHTS[best]:g}: "
                f"{test_acc:.4f}, record only)",
                flush=True,
            )


if __name__ == "__main__":
    main()
