"""Exact-span evaluation of the entity extractor against the Bitext span annotations.

Bitext marks at most one entity per request (``entity_type``, ``start_offset``,
``end_offset``). For the identifier types we score every predicted span of that type in
every row: a prediction counts only when start and end match the annotation exactly, so
spans found in rows without an annotation are false positives.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.entity_extractor import EntityExtractor

EVALUATED_TYPES = ("order_id", "invoice_id")


@dataclass(frozen=True)
class SpanScore:
    """Precision, recall and F1 of one entity type."""

    entity_type: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class SpanError:
    """A missed or spurious span, for the report."""

    entity_type: str
    kind: str  # "missed" or "spurious"
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class EntityReport:
    """Scores per type plus examples of the errors."""

    rows: int
    scores: dict[str, SpanScore]
    errors: tuple[SpanError, ...]


@dataclass(frozen=True)
class AnnotatedText:
    """One request and its gold span, if any."""

    text: str
    entity_type: str | None
    span: tuple[int, int] | None


def read_bitext_spans(path: Path) -> list[AnnotatedText]:
    """Rows of the Bitext CSV as texts with their (single) gold span.

    About a hundred Bitext spans end past the end of their text: the identifier was
    shortened after annotation ("370795561790" became "3707955617" but kept the old
    offsets). Such spans are clipped to the text's end, which is what they mark.
    """
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for raw in csv.DictReader(fh):
            etype = (raw.get("entity_type") or "").strip() or None
            span = None
            if etype is not None:
                start, end = float(raw["start_offset"]), float(raw["end_offset"])
                if not (math.isnan(start) or math.isnan(end)):
                    text_len = len(raw["instruction"])
                    span = (int(start), min(int(end), text_len))
            rows.append(AnnotatedText(text=raw["instruction"], entity_type=etype, span=span))
    return rows


def evaluate_spans(
    rows: Iterable[AnnotatedText],
    *,
    extractor: EntityExtractor | None = None,
    types: Sequence[str] = EVALUATED_TYPES,
) -> EntityReport:
    """Exact-span precision/recall/F1 per entity type."""
    extractor = extractor or EntityExtractor()
    counts = {t: [0, 0, 0] for t in types}
    errors: list[SpanError] = []
    n = 0
    for row in rows:
        n += 1
        found = extractor.extract(row.text)
        for etype in types:
            gold = {row.span} if row.entity_type == etype and row.span is not None else set()
            pred = {(e.start, e.end) for e in found if e.type == etype}
            tp = len(gold & pred)
            counts[etype][0] += tp
            counts[etype][1] += len(pred - gold)
            counts[etype][2] += len(gold - pred)
            errors.extend(SpanError(etype, "missed", row.text, s) for s in gold - pred)
            errors.extend(SpanError(etype, "spurious", row.text, s) for s in pred - gold)
    scores = {t: SpanScore(t, *counts[t]) for t in types}
    return EntityReport(rows=n, scores=scores, errors=tuple(errors))
