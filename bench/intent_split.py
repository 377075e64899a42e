"""Two labelled CSVs read as one experiment's data, labels indexed alike (issue 15 benches).

A ``triage split`` (``train.csv``, ``test.csv``), or CLINC150's train and validation files:
each intent experiment reads both parts and numbers the labels the same way (sorted label
names of the first part), so row ``y[i]`` and a model's probability column agree across
benches and their caches.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from training.datasets import LabelledTexts, read_labelled_csv


@dataclass(frozen=True)
class IntentSplit:
    """Both parts; ``names[y[i]]`` is the label of ``train`` row ``i``."""

    train: LabelledTexts
    test: LabelledTexts
    names: tuple[str, ...]
    y: npt.NDArray[np.int64]
    y_test: npt.NDArray[np.int64]


def read_split(train: Path, test: Path) -> IntentSplit:
    """Both CSVs (columns ``text`` and ``label``); every test label must occur in train."""
    parts = [read_labelled_csv(p, text_column="text", label_column="label") for p in (train, test)]
    names = tuple(sorted(set(parts[0].labels)))
    index = {label: i for i, label in enumerate(names)}
    y, y_test = (np.array([index[lab] for lab in p.labels], dtype=np.int64) for p in parts)
    return IntentSplit(parts[0], parts[1], names, y, y_test)


def add_split_arguments(parser: argparse.ArgumentParser, *, split: Path, cache: Path) -> None:
    """The options every split experiment takes: the two CSVs of a ``triage split`` in
    ``split``, a folder for its cached vectors and the encoder backend that makes them."""
    parser.add_argument("--train", type=Path, default=split / "train.csv")
    parser.add_argument("--test", type=Path, default=split / "test.csv")
    parser.add_argument("--cache", type=Path, default=cache)
    parser.add_argument("--backend", default="onnx-int8")
