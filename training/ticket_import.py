"""Turn helpdesk tickets into training rows for the intent and urgency models.

Every ticket goes through the same steps, in this order, and the first one that
rejects it names the reason it was dropped:

1. ``spam``: the helpdesk flagged it as spam, or it carries a drop tag/type of the mapping.
2. ``empty_after_cleaning``: HTML, the quoted thread, signature and disclaimer removed
   (the service's message cleaner), nothing with a letter in it is left.
3. ``language``: the customer's text is in a language the models are not trained for
   (``languages``, default English). The shipped encoder reads English; a French ticket
   labelled ``cancel_contract`` would teach the model that French text means
   ``cancel_contract``. In service such messages are marked ``intent_trusted: false`` and
   routed by the routing file's ``language_supported: false`` rule instead.
4. ``no_mapping``: no rule of the mapping file matches its tags or type (kept with an
   empty label when ``keep_unmapped`` is set, for ``triage intents suggest``; ``triage
   train`` skips rows without a label).
5. ``duplicate``: the same cleaned text (ignoring case and punctuation) was kept already.

The text written is what the service classifies: subject plus the customer's new text
(for long messages its most request-like sentences), exactly as ``MessageAnalyzer``
computes it at triage time.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from models.errors import InvalidInputError
from models.message_clusters import duplicate_key
from training.ticket_mapping import TicketMapping
from training.ticket_readers import HelpdeskTicket

if TYPE_CHECKING:
    from models.language_detector import LanguageDetector
    from models.message_analyzer import MessageAnalyzer
    from training.urgency_training import UrgencyExample

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

#: Columns of the training CSV, in order. ``triage train`` reads text/label/category,
#: ``triage urgency train`` reads text/urgency.
OUTPUT_COLUMNS: Final = (
    "id",
    "text",
    "label",
    "category",
    "urgency",
    "priority",
    "channel",
    "language",
    "created_at",
)


class DropReason(StrEnum):
    """Why a ticket is not in the training data (checked in this order)."""

    SPAM = "spam"
    EMPTY = "empty_after_cleaning"
    LANGUAGE = "language"
    NO_MAPPING = "no_mapping"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class ImportedTicket:
    """One training row."""

    id: str
    text: str
    label: str
    category: str
    urgency: str
    priority: str
    channel: str
    language: str
    created_at: str

    def as_row(self) -> dict[str, str]:
        """The row as the CSV writer takes it."""
        return {name: getattr(self, name) for name in OUTPUT_COLUMNS}


@dataclass(frozen=True)
class DroppedTicket:
    """A ticket left out, and why."""

    id: str
    reason: DropReason
    detail: str


@dataclass(frozen=True)
class ImportReport:
    """What an import kept and what it dropped."""

    source: str
    kept: tuple[ImportedTicket, ...]
    dropped: tuple[DroppedTicket, ...]
    #: Helpdesk priorities the mapping has no urgency for, with their counts.
    unmapped_priorities: dict[str, int]

    @property
    def total(self) -> int:
        """Tickets read."""
        return len(self.kept) + len(self.dropped)

    def drop_counts(self) -> dict[str, int]:
        """Dropped tickets per reason, every reason listed."""
        counts = Counter(d.reason for d in self.dropped)
        return {reason.value: counts.get(reason, 0) for reason in DropReason}

    def dropped_languages(self) -> dict[str, int]:
        """Dropped non-supported languages and how many tickets each."""
        counts = Counter(d.detail for d in self.dropped if d.reason is DropReason.LANGUAGE)
        return dict(counts.most_common())

    def label_counts(self) -> dict[str, int]:
        """Kept rows per label (``""``: unmapped rows kept for suggestions)."""
        return dict(Counter(t.label for t in self.kept).most_common())

    def urgency_counts(self) -> dict[str, int]:
        """Kept rows per urgency level (``""``: no or unknown priority)."""
        return dict(Counter(t.urgency for t in self.kept).most_common())

    def summary(self) -> dict[str, Any]:
        """The figures of the import as one JSON-ready object."""
        return {
            "source": self.source,
            "read": self.total,
            "kept": len(self.kept),
            "labelled": sum(1 for t in self.kept if t.label),
            "dropped": self.drop_counts(),
            "dropped_languages": self.dropped_languages(),
            "labels": self.label_counts(),
            "urgency": self.urgency_counts(),
            "unmapped_priorities": self.unmapped_priorities,
        }


class TicketImporter:
    """Applies the import steps (module docstring) to tickets of any helpdesk format."""

    def __init__(
        self,
        mapping: TicketMapping,
        *,
        analyzer: MessageAnalyzer,
        language: LanguageDetector | None = None,
        keep_unmapped: bool = False,
    ) -> None:
        self.mapping = mapping
        self.analyzer = analyzer
        self.language = language
        self.keep_unmapped = keep_unmapped

    def _clean(self, ticket: HelpdeskTicket) -> str:
        """What the service would classify; ``""`` when cleaning leaves no letters."""
        # Not MessageAnalyzer.focus_text: it falls back to the raw text when cleaning
        # leaves nothing, and here such a ticket must be dropped instead.
        cleaned = self.analyzer.cleaner.clean(ticket.body, subject=ticket.subject)
        text = cleaned.focus_text(max_words=self.analyzer.focus_words)
        return text if _LETTER.search(text) else ""

    def import_tickets(
        self, tickets: Sequence[HelpdeskTicket], *, source: str = "<memory>", progress: bool = False
    ) -> ImportReport:
        """Clean, filter and label ``tickets``; one pass, order kept."""
        from tqdm import tqdm

        kept: list[ImportedTicket] = []
        dropped: list[DroppedTicket] = []
        seen: dict[str, str] = {}
        unmapped_priorities: Counter[str] = Counter()
        for ticket in tqdm(
            tickets, desc="cleaning tickets", unit="ticket", disable=not progress, leave=False
        ):
            spam = self.mapping.spam_reason(ticket)
            if spam is not None:
                dropped.append(DroppedTicket(ticket.id, DropReason.SPAM, spam))
                continue
            text = self._clean(ticket)
            if not text:
                dropped.append(DroppedTicket(ticket.id, DropReason.EMPTY, ""))
                continue
            language = ""
            if self.language is not None:
                guess = self.language.detect(text)
                language = guess.code
                if not guess.supported:
                    dropped.append(DroppedTicket(ticket.id, DropReason.LANGUAGE, guess.code))
                    continue
            rule = self.mapping.intent_for(ticket)
            if rule is None and not self.keep_unmapped:
                detail = " ".join([*ticket.tags, *([f"type={ticket.type}"] if ticket.type else [])])
                dropped.append(DroppedTicket(ticket.id, DropReason.NO_MAPPING, detail))
                continue
            key = duplicate_key(text)
            if key in seen:
                dropped.append(
                    DroppedTicket(ticket.id, DropReason.DUPLICATE, f"same text as {seen[key]}")
                )
                continue
            seen[key] = ticket.id
            urgency = self.mapping.urgency_for(ticket.priority)
            if ticket.priority and urgency is None:
                unmapped_priorities[ticket.priority] += 1
            kept.append(
                ImportedTicket(
                    id=ticket.id,
                    text=text,
                    label=rule.intent if rule else "",
                    category=(rule.category or "") if rule else "",
                    urgency=urgency or "",
                    priority=ticket.priority,
                    channel=ticket.channel,
                    language=language,
                    created_at=ticket.created_at,
                )
            )
        return ImportReport(
            source=source,
            kept=tuple(kept),
            dropped=tuple(dropped),
            unmapped_priorities=dict(unmapped_priorities.most_common()),
        )


def write_training_csv(report: ImportReport, path: Path) -> None:
    """The kept rows as a CSV with ``OUTPUT_COLUMNS``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=OUTPUT_COLUMNS)
        writer.writeheader()
        writer.writerows(t.as_row() for t in report.kept)


def write_drop_report(report: ImportReport, path: Path) -> None:
    """One row per dropped ticket: id, reason, detail (no customer text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "reason", "detail"])
        writer.writerows([d.id, d.reason.value, d.detail] for d in report.dropped)


_KIND_BY_CHANNEL: Final = {"email": "email", "chat": "chat", "social": "tweet", "web": "form"}


def urgency_examples_from_csv(
    path: Path, *, test_share: float = 0.2, seed: int = 0
) -> list[UrgencyExample]:
    """Rows of an imported CSV (``text`` and ``urgency`` columns) as urgency examples.

    Rows without an urgency are skipped. The CSV has no split, so one is assigned: per
    level, a fixed ``test_share`` of the rows (chosen by a hash of the ticket id, so the
    same rows every run) is ``test``, the rest ``train``.

    Raises:
        InvalidInputError: missing columns, unknown levels, or no usable rows.
    """
    from models.urgency_classifier import LEVELS
    from training.urgency_training import UrgencyExample

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"text", "urgency"} - set(reader.fieldnames or [])
            if missing:
                raise InvalidInputError(
                    f"{path}: no column {', '.join(sorted(missing))} (write it with "
                    "`triage tickets import`)"
                )
            rows = [r for r in reader if (r.get("urgency") or "").strip() and r["text"].strip()]
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc})") from exc
    bad = sorted({r["urgency"] for r in rows} - set(LEVELS))
    if bad:
        raise InvalidInputError(f"{path}: unknown urgency levels {bad} (levels: {list(LEVELS)})")
    if not rows:
        raise InvalidInputError(f"{path}: no rows with an urgency level")
    by_level: dict[str, list[dict[str, str]]] = {}
    for n, row in enumerate(rows):
        row.setdefault("id", "")
        row["id"] = row["id"] or f"row{n}"
        by_level.setdefault(row["urgency"], []).append(row)
    test_ids: set[str] = set()
    for level_rows in by_level.values():
        ranked = sorted(
            level_rows, key=lambda r: hashlib.sha256(f"{seed}:{r['id']}".encode()).hexdigest()
        )
        n_test = round(len(ranked) * test_share) if len(ranked) >= 2 else 0
        test_ids.update(r["id"] for r in ranked[:n_test])
    return [
        UrgencyExample(
            id=row["id"],
            text=row["text"],
            level=row["urgency"],
            split="test" if row["id"] in test_ids else "train",
            kind=_KIND_BY_CHANNEL.get(row.get("channel") or "", "chat"),
            prior_contacts=0,
            adversarial=False,
        )
        for row in rows
    ]
