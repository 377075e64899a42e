"""Bulk backfill: triage a file of historical tickets, one JSON result per input row.

The input is cut into chunks once (``BackfillPlan``: chunk inputs plus a manifest in a
work folder next to the output). Each chunk is triaged into a part file written aside
and renamed, so a part either exists whole or not at all; after an interruption the run
resumes with the chunks that have no part yet, and the output (the parts joined in order)
is identical to an uninterrupted run. The same chunk function runs in the CLI process
or, as the ``backfill_chunk`` job, in Celery workers (which share the folder).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.errors import InvalidInputError
from models.jsonl_lines import jsonl_objects
from models.triager import TriageInput, Triager, TriageResult

logger = logging.getLogger(__name__)

#: Keys of every output line, in this order.
OUTPUT_KEYS = ("id", "intent", "confidence", "out_of_scope", "urgency", "entities", "routing")
MANIFEST = "manifest.json"
#: Messages per triager call inside a chunk (one encoder pass each).
TRIAGE_BATCH = 64
DEFAULT_CHUNK_ROWS = 500


@dataclass(frozen=True)
class BackfillColumns:
    """Which input columns (CSV) or keys (JSONL) hold the text, subject and ticket id."""

    text: str = "text"
    subject: str | None = None
    id: str | None = None


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        yield from enumerate(reader, start=2)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        yield from jsonl_objects(handle, source=path)


def read_tickets(path: Path, columns: BackfillColumns) -> list[dict[str, Any]]:
    """``{"id", "text", "subject"}`` per input row, in input order.

    The id is the ``--id-column`` value, or the row's 1-based position among the rows.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows: Iterator[tuple[int, dict[str, Any]]] = _csv_rows(path)
    elif suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(path)
    else:
        raise InvalidInputError(f"{path}: expected a .csv or .jsonl file")
    tickets = []
    wanted = [c for c in (columns.text, columns.subject, columns.id) if c is not None]
    for position, (number, row) in enumerate(rows, start=1):
        missing = [c for c in wanted if c not in row]
        if missing and (suffix == ".csv" or columns.text in missing or columns.id in missing):
            raise InvalidInputError(
                f"{path}: row {number} has no column {missing[0]!r} (it has {sorted(row)[:12]})"
            )
        text = row.get(columns.text)
        subject = row.get(columns.subject) if columns.subject else None
        ticket_id = row.get(columns.id) if columns.id else position
        tickets.append(
            {
                "id": ticket_id,
                "text": "" if text is None else str(text),
                "subject": None if subject in (None, "") else str(subject),
            }
        )
    return tickets


def _result(ticket_id: Any, result: TriageResult) -> dict[str, Any]:
    intent = result.intent
    return {
        "id": ticket_id,
        "intent": intent.label,
        "confidence": round(float(intent.confidence), 4),
        "out_of_scope": bool(intent.out_of_scope),
        "urgency": result.urgency_level,
        "entities": [
            {"type": e.type, "value": e.value, "source": e.source} for e in result.entities
        ],
        "routing": (
            {"queue": result.routing.queue, "priority": result.routing.priority}
            if result.routing is not None
            else None
        ),
    }


def triage_tickets(triager: Triager, tickets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One output record per ticket, in order; an empty message gets ``"error"`` and no
    labels instead of stopping the run."""
    out: list[dict[str, Any] | None] = [None] * len(tickets)
    todo = [(i, t) for i, t in enumerate(tickets) if t["text"].strip()]
    for i, ticket in enumerate(tickets):
        if not ticket["text"].strip():
            out[i] = {
                **dict.fromkeys(OUTPUT_KEYS),
                "id": ticket["id"],
                "entities": [],
                "error": "empty text",
            }
    for start in range(0, len(todo), TRIAGE_BATCH):
        batch = todo[start : start + TRIAGE_BATCH]
        results = triager.triage_many(
            [TriageInput(text=t["text"], subject=t["subject"]) for _, t in batch]
        )
        for (i, ticket), result in zip(batch, results, strict=True):
            out[i] = _result(ticket["id"], result)
    return [r for r in out if r is not None]


def _write_lines(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Write aside, then rename: the file exists whole or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def run_chunk(input_path: Path, output_path: Path, *, triager: Triager) -> dict[str, Any]:
    """Triage one chunk file into its part file; a chunk whose part exists is done."""
    if output_path.is_file():
        with output_path.open(encoding="utf-8") as handle:
            rows = sum(1 for _ in handle)
        return {"rows": rows, "skipped": True}
    tickets = [t for _, t in _jsonl_rows(input_path)]
    records = triage_tickets(triager, tickets)
    _write_lines(output_path, records)
    return {"rows": len(records), "skipped": False}


@dataclass(frozen=True)
class BackfillPlan:
    """The chunked input of one backfill, in ``folder``; ``fingerprint`` names the input,
    columns and chunk size it was cut from."""

    folder: Path
    fingerprint: str
    rows: int
    chunk_rows: tuple[int, ...]

    @property
    def chunks(self) -> int:
        """Number of chunks."""
        return len(self.chunk_rows)

    def input_path(self, chunk: int) -> Path:
        """The chunk's input lines."""
        return self.folder / f"in-{chunk:05d}.jsonl"

    def output_path(self, chunk: int) -> Path:
        """The chunk's results, once triaged."""
        return self.folder / f"part-{chunk:05d}.jsonl"

    def pending(self) -> list[int]:
        """Chunks without results yet."""
        return [i for i in range(self.chunks) if not self.output_path(i).is_file()]

    @classmethod
    def prepare(
        cls,
        input_path: Path,
        out: Path,
        *,
        columns: BackfillColumns,
        chunk_size: int = DEFAULT_CHUNK_ROWS,
    ) -> BackfillPlan:
        """Cut ``input_path`` into chunks, or reuse the cut of an interrupted run of the
        same input, columns and chunk size (anything else starts afresh)."""
        if chunk_size < 1:
            raise InvalidInputError("chunk size must be at least 1")
        if not input_path.is_file():
            raise InvalidInputError(f"{input_path}: no such file")
        digest = hashlib.sha256()
        with input_path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(json.dumps([columns.text, columns.subject, columns.id, chunk_size]).encode())
        fingerprint = digest.hexdigest()[:16]
        folder = out.with_name(f".{out.name}.parts")
        manifest = folder / MANIFEST
        if manifest.is_file():
            saved = json.loads(manifest.read_text(encoding="utf-8"))
            if saved.get("fingerprint") == fingerprint:
                logger.info("resuming the backfill in %s", folder)
                return cls(folder, fingerprint, int(saved["rows"]), tuple(saved["chunk_rows"]))
        if folder.exists():
            shutil.rmtree(folder)
        tickets = read_tickets(input_path, columns)
        folder.mkdir(parents=True)
        plan = cls(
            folder,
            fingerprint,
            len(tickets),
            tuple(len(tickets[i : i + chunk_size]) for i in range(0, len(tickets), chunk_size)),
        )
        for chunk in range(plan.chunks):
            start = chunk * chunk_size
            _write_lines(plan.input_path(chunk), tickets[start : start + chunk_size])
        # Last: a folder with a manifest holds every chunk.
        _write_lines(
            manifest,
            [{"fingerprint": fingerprint, "rows": plan.rows, "chunk_rows": list(plan.chunk_rows)}],
        )
        return plan

    def assemble(self, out: Path) -> int:
        """Join the parts in order into ``out`` (written aside, then renamed) and remove
        the work folder; returns the number of lines."""
        missing = self.pending()
        if missing:
            raise InvalidInputError(f"{len(missing)} chunks are not triaged yet")
        tmp = out.with_name(f".{out.name}.tmp")
        lines = 0
        with tmp.open("w", encoding="utf-8") as handle:
            for chunk in range(self.chunks):
                with self.output_path(chunk).open(encoding="utf-8") as part:
                    for line in part:
                        handle.write(line)
                        lines += 1
            handle.flush()
            os.fsync(handle.fileno())
        if lines != self.rows:
            tmp.unlink()
            raise InvalidInputError(f"the parts hold {lines} results for {self.rows} rows")
        tmp.replace(out)
        shutil.rmtree(self.folder)
        return lines
