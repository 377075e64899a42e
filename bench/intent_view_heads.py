"""One head per pooled view, fused: does a weighted sum of per-view heads beat one head?

Second idea of issue 15 (after concatenating views into one head lifted BANKING77 by only
0.2 point once the lexical head and the vote were on). Out-of-fold scores of several heads
(logistic regression per view of the same encoder pass, the lexical SVM, the
nearest-example vote per view) are computed with the classifier's 5-fold split, then fusion
weights are chosen by coordinate ascent on four fifths of the out-of-fold rows and applied
to the last fifth (nested), so the printed accuracy is not tuned on the rows it counts.

    nice -n 15 python bench/intent_view_heads.py --cache /tmp/intent-views \
        --banking-train /tmp/banking/train.csv

Views come from ``bench/intent_pooling_views.py``'s cache (run it first).
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.intent_pooling_views import read_rows

FloatArray = npt.NDArray[np.float64]
GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0)


def oof_components(
    texts: list[str], y: npt.NDArray[np.int64], views: dict[str, npt.NDArray[np.float32]]
) -> dict[str, FloatArray]:
    """Out-of-fold log-scores of every head, the training pipeline's split and settings."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from models.embedding_distances import knn_vote, nearest_neighbours
    from models.lexical_features import LexicalFeaturizer

    n, n_labels = len(y), int(y.max()) + 1
    lr_views = ("mean6", "mean3", "mean4", "mean0", "max6")
    vote_views = ("mean6", "mean3", "mean0")
    out: dict[str, FloatArray] = {}
    lexical = LexicalFeaturizer().fit(texts).transform(texts)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(n), y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for v in lr_views:
                x = views[v].astype(np.float64)
                model = LogisticRegression(C=20.0, max_iter=3000).fit(x[tr], y[tr])
                out.setdefault(f"lr:{v}", np.zeros((n, n_labels)))[te] = model.predict_log_proba(
                    x[te]
                )
            svm = LinearSVC(C=0.5, max_iter=5000).fit(lexical[tr], y[tr])
            out.setdefault("lex", np.zeros((n, n_labels)))[te] = svm.decision_function(lexical[te])
        for v in vote_views:
            x = views[v]
            sims, idx = nearest_neighbours(x[te], x[tr], 10)
            out.setdefault(f"vote:{v}", np.zeros((n, n_labels)))[te] = knn_vote(
                sims, idx, y[tr], n_labels, k=10, tau=0.05
            )
        print("  fold done", flush=True)
    return out


def choose_weights(
    parts: dict[str, FloatArray], y: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> dict[str, float]:
    """Coordinate ascent over ``GRID`` per head (the first head fixed at weight 1)."""
    names = list(parts)
    w = {k: (1.0 if i == 0 else 0.0) for i, k in enumerate(names)}

    def acc(weights: dict[str, float]) -> float:
        z = sum(weights[k] * parts[k][rows] for k in names if weights[k])
        return float((np.argmax(z, axis=1) == y[rows]).mean())

    best = acc(w)
    for _ in range(3):
        changed = False
        for k in names[1:]:
            for g in GRID:
                trial = {**w, k: g}
                a = acc(trial)
                if a > best + 1e-9:
                    best, w, changed = a, trial, True
        if not changed:
            break
    return w


def nested_accuracy(
    parts: dict[str, FloatArray], y: npt.NDArray[np.int64]
) -> tuple[float, list[dict[str, float]]]:
    """Weights chosen on 4/5 of the out-of-fold rows, accuracy counted on the other 1/5."""
    from sklearn.model_selection import StratifiedKFold

    right = 0
    chosen = []
    for fit_rows, test_rows in StratifiedKFold(5, shuffle=True, random_state=1).split(
        np.zeros(len(y)), y
    ):
        w = choose_weights(parts, y, fit_rows)
        chosen.append(w)
        z = sum(w[k] * parts[k][test_rows] for k in parts if w[k])
        right += int((np.argmax(z, axis=1) == y[test_rows]).sum())
    return right / len(y), chosen


SETS: dict[str, tuple[str, ...]] = {
    "today: lr:mean6 + lex + vote:mean6": ("lr:mean6", "lex", "vote:mean6"),
    "+ lr:mean3": ("lr:mean6", "lex", "vote:mean6", "lr:mean3"),
    "+ lr:mean3 + lr:mean0": ("lr:mean6", "lex", "vote:mean6", "lr:mean3", "lr:mean0"),
    "+ vote:mean3": ("lr:mean6", "lex", "vote:mean6", "vote:mean3"),
    "+ lr:mean3 + vote:mean3": ("lr:mean6", "lex", "vote:mean6", "lr:mean3", "vote:mean3"),
    "all": (
        "lr:mean6",
        "lex",
        "vote:mean6",
        "lr:mean3",
        "lr:mean4",
        "lr:mean0",
        "lr:max6",
        "vote:mean3",
        "vote:mean0",
    ),
}


def main() -> None:
    """Print nested out-of-fold accuracy of each fusion of per-view heads."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/intent-views"))
    parser.add_argument("--banking-train", type=Path, default=Path("/tmp/banking/train.csv"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", default="banking77")
    args = parser.parse_args()
    sources = {
        "banking77": (args.banking_train, "text", "label"),
        "clinc150": (args.data_dir / "clinc150_train.csv", "text", "label"),
    }
    for name in args.sets.split(","):
        path, text_col, label_col = sources[name]
        texts, labels = read_rows(path, text_col, label_col)
        with np.load(args.cache / f"{name}.npz") as data:
            views = {k: data[k] for k in data.files}
        keep = np.array([lab != "out_of_scope" for lab in labels])
        texts = list(itertools.compress(texts, keep))
        views = {k: v[keep] for k, v in views.items()}
        names = sorted(set(itertools.compress(labels, keep)))
        index = {lab: i for i, lab in enumerate(names)}
        y = np.array([index[lab] for lab in itertools.compress(labels, keep)])
        t0 = time.perf_counter()
        comps = oof_components(texts, y, views)
        print(f"{name}: components in {time.perf_counter() - t0:.0f} s")
        for k, v in comps.items():
            print(f"  alone {k:12s} {float((v.argmax(1) == y).mean()):.4f}")
        for label, keys in SETS.items():
            acc, chosen = nested_accuracy({k: comps[k] for k in keys}, y)
            print(f"  {label:40s} nested OOF {acc:.4f}  weights fold 1 {chosen[0]}", flush=True)


if __name__ == "__main__":
    main()
