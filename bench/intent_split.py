"""The 80/20 split of an intent data set that the intent experiments share (issue 15).

``triage split`` writes ``train.csv`` and ``test.csv``; each experiment reads both and
indexes the labels the same way (sorted label names, so row ``y[i]`` and a model's
probability column agree across benches and caches).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class IntentSplit:
    """Texts and integer labels of both parts; ``names[y[i]]`` is row ``i``'s label."""

    texts: list[str]
    labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    names: tuple[str, ...]
    y: npt.NDArray[np.int64]
    y_test: npt.NDArray[np.int64]


def read_split(train: Path, test: Path) -> IntentSplit:
    """Both CSVs of ``triage split`` (columns ``text`` and ``label``)."""
    from training.datasets import read_labelled_csv

    train_data = read_labelled_csv(train, text_column="text", label_column="label")
    test_data = read_labelled_csv(test, text_column="text", label_column="label")
    names = tuple(sorted(set(train_data.labels)))
    index = {lab: i for i, lab in enumerate(names)}
    return IntentSplit(
        texts=list(train_data.texts),
        labels=list(train_data.labels),
        test_texts=list(test_data.texts),
        test_labels=list(test_data.labels),
        names=names,
        y=np.array([index[lab] for lab in train_data.labels], dtype=np.int64),
        y_test=np.array([index[lab] for lab in test_data.labels], dtype=np.int64),
    )
