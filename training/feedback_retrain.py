"""Retraining the intent classifier with the intents agents corrected.

Reads the JSONL of ``GET /v1/feedback/export``: every line with a ``correct_intent`` is
a message the model labelled wrongly (or that the agent confirmed explicitly). The
corrections are merged into the base training data (a message already in it takes the
corrected label; a new one is added; the latest correction of a message wins), and the
classifier is retrained with ``train_intent_classifier`` exactly as ``triage train`` does.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.artifact_manifest import sha256_file
from models.errors import InvalidInputError
from models.jsonl_lines import jsonl_objects
from models.message_analyzer import MessageAnalyzer
from service.feedback.feedback_store import EXPORT_TRAILER_KEY
from training.datasets import LabelledTexts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Correction:
    """A message and the intent an agent said it has."""

    text: str
    intent: str
    recorded_at: str | None = None


@dataclass(frozen=True)
class MergeReport:
    """What the corrections changed in the training data."""

    corrections: int
    added: int
    relabelled: int
    unchanged: int
    skipped_unknown_label: int

    def to_json(self) -> dict[str, int]:
        """For the artifact manifest and the command's output."""
        return {
            "corrections": self.corrections,
            "added": self.added,
            "relabelled": self.relabelled,
            "unchanged": self.unchanged,
            "skipped_unknown_label": self.skipped_unknown_label,
        }


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def read_corrections(path: Path) -> list[Correction]:
    """Corrected intents from a feedback export, oldest first.

    Raises:
        InvalidInputError: the file is missing, a line is not a JSON object, or the
            export's closing line counts another number of records (a cut download).
    """
    if not path.is_file():
        raise InvalidInputError(f"feedback file {path} does not exist")
    # The service classifies the cleaned focus text (no quoted thread or signature), so a
    # correction teaches the model on that same text.
    analyzer = MessageAnalyzer()
    corrections = []
    records = 0
    trailer: dict[str, object] | None = None
    with path.open(encoding="utf-8") as fh:
        for number, record in jsonl_objects(fh, source=path):
            if trailer is not None:
                raise InvalidInputError(f"{path}:{number}: a record after the export's end")
            if record.get(EXPORT_TRAILER_KEY) is True:
                trailer = record
                continue
            records += 1
            intent = record.get("correct_intent")
            text = record.get("text")
            if not intent or not isinstance(text, str) or not text.strip():
                continue
            subject = record.get("subject")
            corrections.append(
                Correction(
                    text=analyzer.focus_text(
                        text, subject=subject if isinstance(subject, str) else None
                    ),
                    intent=str(intent),
                    recorded_at=record.get("recorded_at"),
                )
            )
    if trailer is None:
        logger.warning("%s has no export trailer: it may be an incomplete download", path)
    elif trailer.get("rows") != records:
        raise InvalidInputError(
            f"{path} is incomplete: its trailer counts {trailer.get('rows')} records, "
            f"the file holds {records}"
        )
    corrections.sort(key=lambda c: c.recorded_at or "")
    return corrections


def merge_corrections(
    base: LabelledTexts,
    corrections: Iterable[Correction],
    *,
    allow_new_labels: bool = False,
    source: str = "feedback",
) -> tuple[LabelledTexts, MergeReport]:
    """``base`` with the corrections applied (see the module docstring)."""
    known = set(base.labels)
    latest: dict[str, Correction] = {}
    skipped = 0
    count = 0
    for correction in corrections:
        count += 1
        if correction.intent not in known and not allow_new_labels:
            skipped += 1
            continue
        latest[_key(correction.text)] = correction
    texts = list(base.texts)
    labels = list(base.labels)
    position: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        position.setdefault(_key(text), []).append(i)
    added = relabelled = unchanged = 0
    for key, correction in latest.items():
        rows = position.get(key)
        if rows is None:
            texts.append(correction.text)
            labels.append(correction.intent)
            added += 1
            continue
        for row in rows:
            if labels[row] == correction.intent:
                unchanged += 1
            else:
                labels[row] = correction.intent
                relabelled += 1
    digest = hashlib.sha256(base.sha256.encode())
    for key in sorted(latest):
        digest.update(f"\n{key}\t{latest[key].intent}".encode())
    merged = LabelledTexts(
        texts=tuple(texts),
        labels=tuple(labels),
        source=f"{base.source}+{source}",
        sha256=digest.hexdigest(),
        categories=base.categories,
    )
    report = MergeReport(
        corrections=count,
        added=added,
        relabelled=relabelled,
        unchanged=unchanged,
        skipped_unknown_label=skipped,
    )
    return merged, report


def feedback_provenance(path: Path, report: MergeReport) -> dict[str, object]:
    """What the manifest records about the feedback used."""
    return {"path": str(path), "sha256": sha256_file(path), **report.to_json()}


@dataclass(frozen=True)
class JudgingSplit:
    """Rows to train the candidate on and held-out rows to judge it and the active model.

    ``from_corrections`` marks the held-out rows that came from agents' corrections.
    """

    train: LabelledTexts
    holdout: LabelledTexts
    from_corrections: tuple[bool, ...]


def _with_hash(data: LabelledTexts, *, source: str, salt: str) -> LabelledTexts:
    digest = hashlib.sha256(salt.encode())
    for text, label in zip(data.texts, data.labels, strict=True):
        digest.update(f"\n{_key(text)}\t{label}".encode())
    return LabelledTexts(
        texts=data.texts,
        labels=data.labels,
        source=source,
        sha256=digest.hexdigest(),
        categories=data.categories,
    )


def split_for_judging(
    merged: LabelledTexts,
    corrections: Sequence[Correction],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    holdout: LabelledTexts | None = None,
) -> JudgingSplit:
    """Hold out ``test_size`` of every label, corrections and base rows apart.

    Corrections are split on their own, so the held-out rows always include some of the
    corrected phrasing (the mistake the retrain is for) and the candidate never trains on
    them. With ``holdout`` (an independent labelled file), all base rows train and the
    held-out corrections are added to it. A group of one row always trains.
    """
    if not 0.0 < test_size < 1.0:
        raise InvalidInputError("the held-out share must be between 0 and 1", field="test_size")
    known = set(merged.labels)
    corrected = {_key(c.text) for c in corrections if c.intent in known}
    groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for i, (text, label) in enumerate(zip(merged.texts, merged.labels, strict=True)):
        groups[(label, _key(text) in corrected)].append(i)
    rng = random.Random(seed)
    held: set[int] = set()
    for (_, is_correction), rows in sorted(groups.items()):
        if (holdout is not None and not is_correction) or len(rows) < 2:
            continue
        rng.shuffle(rows)
        held.update(rows[: max(1, round(len(rows) * test_size))])
    train = _with_hash(
        merged.subset(i for i in range(len(merged)) if i not in held),
        source=merged.source,
        salt=f"train of {merged.sha256}",
    )
    held_rows = merged.subset(sorted(held))
    flags = [_key(t) in corrected for t in held_rows.texts]
    if holdout is not None:
        held_rows = LabelledTexts(
            texts=holdout.texts + held_rows.texts,
            labels=holdout.labels + held_rows.labels,
            source=holdout.source,
            sha256=holdout.sha256,
            categories=merged.categories,
        )
        flags = [False] * len(holdout) + flags
    if not held_rows.texts:
        raise InvalidInputError("no rows left to judge the candidate on", field="test_size")
    held_rows = _with_hash(held_rows, source=held_rows.source, salt="holdout")
    return JudgingSplit(train=train, holdout=held_rows, from_corrections=tuple(flags))
