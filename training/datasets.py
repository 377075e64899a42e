"""Reading labelled data sets and building out-of-scope negatives."""

from __future__ import annotations

import csv
import hashlib
import random
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.artifact_manifest import sha256_file
from models.errors import InvalidInputError

# CLINC150 intents that overlap the e-commerce intents (orders, payments, accounts, reaching
# a person): using them as out-of-scope negatives would teach the model to reject real requests.
CLINC_OVERLAPPING_INTENTS = frozenset(
    {
        "order",
        "order_status",
        "card_declined",
        "account_blocked",
        "freeze_account",
        "change_user_name",
        "user_name",
        "pin_change",
        "report_fraud",
        "transactions",
        "cancel",
        "are_you_a_bot",
    }
)


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with one label each, plus where they came from."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    source: str
    sha256: str
    categories: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError("texts and labels differ in length")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Iterable[int]) -> LabelledTexts:
        """Rows at ``indices`` (same source)."""
        idx = list(indices)
        return LabelledTexts(
            texts=tuple(self.texts[i] for i in idx),
            labels=tuple(self.labels[i] for i in idx),
            source=self.source,
            sha256=self.sha256,
            categories=self.categories,
        )

    def label_counts(self) -> Counter[str]:
        """How many rows carry each label."""
        return Counter(self.labels)


def read_labelled_csv(
    path: Path,
    *,
    text_column: str,
    label_column: str,
    category_column: str | None = None,
) -> LabelledTexts:
    """Read a CSV of labelled texts; rows with an empty text or label are skipped.

    Raises:
        InvalidInputError: the file is missing, unreadable or lacks a named column.
    """
    if not path.is_file():
        raise InvalidInputError(f"data file {path} does not exist")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            wanted = [text_column, label_column] + ([category_column] if category_column else [])
            missing = [c for c in wanted if c not in header]
            if missing:
                raise InvalidInputError(
                    f"{path}: no column {', '.join(repr(m) for m in missing)} "
                    f"(columns are: {', '.join(header)})"
                )
            texts, labels = [], []
            categories: dict[str, str] = {}
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if not text or not label:
                    continue
                texts.append(text)
                labels.append(label)
                if category_column:
                    category = (row.get(category_column) or "").strip()
                    if category:
                        categories.setdefault(label, category)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise InvalidInputError(f"{path}: malformed CSV ({exc})") from exc
    if not texts:
        raise InvalidInputError(f"{path}: no labelled rows")
    return LabelledTexts(
        texts=tuple(texts),
        labels=tuple(labels),
        source=str(path),
        sha256=sha256_file(path),
        categories=categories or None,
    )


def clinc_negatives(
    data: LabelledTexts,
    *,
    per_intent: int,
    exclude: frozenset[str] = CLINC_OVERLAPPING_INTENTS,
    source_oos_label: str = "out_of_scope",
    seed: int = 0,
) -> list[str]:
    """Out-of-scope texts: all of CLINC's own out-of-scope rows plus a sample per other intent."""
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = {}
    for text, label in zip(data.texts, data.labels, strict=True):
        by_label.setdefault(label, []).append(text)
    negatives = list(by_label.get(source_oos_label, []))
    for label in sorted(by_label):
        if label == source_oos_label or label in exclude:
            continue
        rows = by_label[label]
        negatives.extend(rng.sample(rows, min(per_intent, len(rows))))
    return negatives


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def gibberish(n: int, *, seed: int = 0) -> list[str]:
    """Keyboard mashes, random letter strings and symbol noise: nothing a customer asks."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            row = rng.choice(_KEYBOARD_ROWS)
            start = rng.randrange(len(row) - 3)
            out.append(row[start : start + rng.randint(4, len(row) - start)] * rng.randint(1, 3))
        elif kind == 1:
            words = [
                "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9)))
                for _ in range(rng.randint(1, 6))
            ]
            out.append(" ".join(words))
        elif kind == 2:
            out.append(
                "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(5, 30)))
            )
        else:
            out.append("".join(rng.choices("?!.,;:-_*#@ ", k=rng.randint(2, 12))) or "??")
    return out


def concatenate(first: LabelledTexts, *others: LabelledTexts) -> LabelledTexts:
    """Rows of several labelled sets; the sha covers all of them in order."""
    parts = (first, *others)
    categories: dict[str, str] = {}
    for part in parts:
        categories.update(part.categories or {})
    return LabelledTexts(
        texts=tuple(t for part in parts for t in part.texts),
        labels=tuple(label for part in parts for label in part.labels),
        source=";".join(part.source for part in parts),
        sha256=hashlib.sha256(":".join(part.sha256 for part in parts).encode()).hexdigest(),
        categories=categories or None,
    )


def with_negatives(
    data: LabelledTexts, negatives: Sequence[str], *, oos_label: str, source: str
) -> LabelledTexts:
    """Append ``negatives`` labelled ``oos_label``; the sha covers both sources."""
    combined = hashlib.sha256(f"{data.sha256}:{source}".encode()).hexdigest()
    return LabelledTexts(
        texts=data.texts + tuple(negatives),
        labels=data.labels + (oos_label,) * len(negatives),
        source=data.source,
        sha256=combined,
        categories=data.categories,
    )
