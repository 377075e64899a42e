"""Public messages we did not write, for the emergency detector: routine traffic and fraud.

Bitext (shop requests) holds no emergency at all. CLINC150 holds one intent that is an
emergency by the urgency rubric, declared here before any measurement:
``report_fraud`` (money taken without consent). Every other CLINC150 intent is routine;
``report_lost_card`` is not an emergency (no money has been taken; it is urgent, i.e. at
most *high*), nor are ``account_blocked``, ``freeze_account`` or ``card_declined``.

Bitext rows are split once by a hash of their text: about 80 % form the *train side*,
the only Bitext rows training and calibration may read; the rest is never read before
evaluation. CLINC150 ``train`` rows feed training and calibration; ``val`` rows only the
evaluation. The files stay in ``../shared/data`` (read at run time, never copied).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

#: CLINC150 intents that are emergencies by the rubric (decided before measuring).
CLINC_EMERGENCY_INTENTS: Final = {"report_fraud": "money_taken"}
CLINC_OUT_OF_SCOPE: Final = "out_of_scope"
BITEXT_HELD_OUT_SHARE: Final = 5  # one row in five is held out

BitextSide = Literal["train", "held_out"]


@dataclass(frozen=True)
class PublicMessage:
    """One public message with its source label (intent) and emergency situation, if any."""

    text: str
    label: str
    situation: str | None = None


def bitext_side(text: str) -> BitextSide:
    """Which side of the fixed Bitext split a request falls on (by hash of its text)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "held_out" if digest[0] % BITEXT_HELD_OUT_SHARE == 0 else "train"


def _rows(path: Path, *, text_column: str, label_column: str) -> Iterable[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {text_column, label_column} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        for row in reader:
            text = (row[text_column] or "").strip()
            if text:
                yield text, (row[label_column] or "").strip()


def read_bitext(path: Path, *, side: BitextSide | None = None) -> list[PublicMessage]:
    """Bitext requests (``instruction``, ``intent``), all or one side; none is an emergency."""
    return [
        PublicMessage(text, label)
        for text, label in _rows(path, text_column="instruction", label_column="intent")
        if side is None or bitext_side(text) == side
    ]


def read_clinc(path: Path, *, in_scope_only: bool = True) -> list[PublicMessage]:
    """CLINC150 queries (``text``, ``label``) with the declared emergency situations."""
    return [
        PublicMessage(text, label, CLINC_EMERGENCY_INTENTS.get(label))
        for text, label in _rows(path, text_column="text", label_column="label")
        if not (in_scope_only and label == CLINC_OUT_OF_SCOPE)
    ]
