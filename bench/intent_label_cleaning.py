"""Does dropping likely label errors from the training rows lift BANKING77? (issue 15)

BANKING77 is known to carry label errors; confident learning (Northcutt et al. 2021, the
``cleanlab`` package) flags rows whose given label disagrees with out-of-fold predicted
probabilities more than each intent's estimated noise rate explains. Whether training
without them helps is measured by nested cross-validation on the 80 % split only: outer
folds of the 80 % (5, stratified, seed 1); on each, the outer-training rows are cleaned
(``find_label_issues`` on 5-fold out-of-fold probabilities of a logistic regression on the
frozen embeddings, C as the trainer's embedding head), the trainer (``--distance-scores``)
is fitted with and without the flagged rows, and both score the outer held-out rows as
they are (decisions, rejections count as wrong). The rule, fixed before the run: worth
building only for a mean lift above 0.1 point.

``cleanlab`` is not a project dependency: ``.venv/bin/pip install cleanlab`` first.

    .venv/bin/python bench/intent_label_cleaning.py --train /tmp/banking/train.csv \\
        --cache /tmp/emb-cache

Results (2026-12-01, onnx-int8 on an AVX-512 VNNI EPYC, default ``prune_by_noise_rate``;
under two minutes an outer fold on a quiet machine):

| outer fold | rows flagged (of 6,404) | without cleaning | cleaned |
|---|---|---|---|
| 0 | 111 | 0.9250 | 0.9219 |
| 1 | 114 | 0.9357 | 0.9282 |
| 2 | 99 | 0.9275 | 0.9263 |
| 3 | 102 | 0.9269 | 0.9244 |
| 4 | 80 | 0.9113 | 0.9094 |

Mean lift -0.32 point, worse on every fold: the held-out rows keep whatever ambiguity the
flagged ones had, and the model scores worse on them without those examples. Not kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True, help="the 80 % of the split")
    parser.add_argument("--cache", type=Path, required=True, help="embedding cache folder")
    parser.add_argument("--outer-folds", type=int, default=5)
    parser.add_argument("--filter-by", default="prune_by_noise_rate")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from models.encoder_factory import build_encoder
    from training.datasets import read_labelled_csv
    from training.intent_training import TrainingConfig, train_intent_classifier
    from training.urgency_embedding_cache import EmbeddingCache

    data = read_labelled_csv(args.train, text_column="text", label_column="label")
    encoder = EmbeddingCache(build_encoder("onnx-int8"), args.cache)
    embeddings = encoder.encode(list(data.texts))
    labels = sorted(set(data.labels))
    y = np.array([labels.index(label) for label in data.labels])
    config = TrainingConfig(distance_scores=True)

    def accuracy(train_rows: npt.NDArray[np.int64], held: npt.NDArray[np.int64]) -> float:
        model = train_intent_classifier(data.subset(train_rows), encoder=encoder, config=config)
        decisions = model.classifier.predict_embedded(
            embeddings[held].astype(np.float32), [data.texts[i] for i in held]
        )
        return float(
            np.mean([d.label == data.labels[i] for d, i in zip(decisions, held, strict=True)])
        )

    outer = StratifiedKFold(args.outer_folds, shuffle=True, random_state=1)
    lifts = []
    for k, (train_rows, held) in enumerate(outer.split(embeddings, y)):
        probabilities = cross_val_predict(
            LogisticRegression(C=config.c_embedding, max_iter=2000),
            embeddings[train_rows],
            y[train_rows],
            cv=5,
            method="predict_proba",
        )
        flagged = find_label_issues(y[train_rows], probabilities, filter_by=args.filter_by)
        plain = accuracy(train_rows, held)
        cleaned = accuracy(train_rows[~flagged], held)
        lifts.append(cleaned - plain)
        print(
            f"outer fold {k}: {int(flagged.sum())} of {len(train_rows)} rows flagged; "
            f"held-out accuracy {plain:.4f} without cleaning, {cleaned:.4f} cleaned",
            flush=True,
        )
    print(f"mean lift {np.mean(lifts):+.4f} over {len(lifts)} outer folds")


if __name__ == "__main__":
    main()
