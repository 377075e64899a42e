"""A FAQ collection built from public question/answer data, for retrieval evaluation.

The sample help centre is long articles with headings; a FAQ is the other common shape of
a knowledge base: one short question and its answer per entry, searched with rephrasings
of the question. Bitext's customer-support set gives both: per intent, one request and
the agent's reply become the entry (the question is its title), and other requests of the
same intent are queries whose one relevant document is that entry. Development and test
queries are disjoint, so fusion weights chosen on one are checked on the other.

The collection is generated at evaluation time from the shared data and never committed
(the text is third-party).
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from models.errors import InvalidInputError

_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
_HEADING_LIKE = re.compile(r"^[A-Z][^0-9]{24,90}$")
DOCUMENTS_FILE = "faq.jsonl"
DEV_QUERIES_FILE = "dev_queries.jsonl"
TEST_QUERIES_FILE = "test_queries.jsonl"


@dataclass(frozen=True)
class FaqCollection:
    """Where the files were written and how many entries and queries they hold."""

    folder: Path
    entries: int
    dev_queries: int
    test_queries: int


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "entry"


def build_faq_collection(
    data: Path,
    out: Path,
    *,
    question_column: str = "instruction",
    answer_column: str = "response",
    group_column: str = "intent",
    dev_per_entry: int = 10,
    test_per_entry: int = 20,
    seed: int = 0,
) -> FaqCollection:
    """Write ``faq.jsonl`` plus disjoint ``dev_queries.jsonl`` and ``test_queries.jsonl``.

    Args:
        data: CSV with a question, an answer and a group (intent) column.
        out: folder to write (created).
        question_column: the request text.
        answer_column: the reply text.
        group_column: rows of one group share one FAQ entry.
        dev_per_entry: development queries per entry (fusion weights are chosen on them).
        test_per_entry: test queries per entry (the reported figures).
        seed: the random choice of entry question and queries.
    """
    if dev_per_entry < 1 or test_per_entry < 1:
        raise InvalidInputError("dev_per_entry and test_per_entry must be at least 1")
    try:
        with data.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in (question_column, answer_column, group_column) if c not in header]
            if missing:
                raise InvalidInputError(f"{data}: no column(s) {', '.join(missing)}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{data}: cannot read ({exc})") from exc
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        question = (row.get(question_column) or "").strip()
        answer = (row.get(answer_column) or "").strip()
        if question and answer and row.get(group_column):
            groups[row[group_column]].append({"question": question, "answer": answer})
    if len(groups) < 2:
        raise InvalidInputError(f"{data}: needs at least two groups with questions and answers")
    rng = random.Random(seed)
    documents, dev, test = [], [], []
    for group in sorted(groups):
        items = groups[group]
        # The entry's question reads like a FAQ heading: well-formed, no template slots
        # and no order numbers.
        clean = [
            i
            for i, item in enumerate(items)
            if _HEADING_LIKE.match(item["question"]) and not _PLACEHOLDER.search(item["question"])
        ]
        pick = rng.choice(clean or list(range(len(items))))
        entry = items[pick]
        doc_id = f"faq-{_slug(group)}"
        documents.append(
            {"id": doc_id, "title": entry["question"], "text": entry["answer"], "tags": [group]}
        )
        others = [item["question"] for i, item in enumerate(items) if i != pick]
        others = sorted(set(others) - {entry["question"]})
        rng.shuffle(others)
        if len(others) < dev_per_entry + test_per_entry:
            raise InvalidInputError(
                f"{data}: group {group!r} has {len(others)} other questions, fewer than "
                f"{dev_per_entry + test_per_entry} queries asked for"
            )
        dev += [{"query": q, "relevant": [doc_id]} for q in others[:dev_per_entry]]
        test += [
            {"query": q, "relevant": [doc_id]}
            for q in others[dev_per_entry : dev_per_entry + test_per_entry]
        ]
    out.mkdir(parents=True, exist_ok=True)
    for name, records in (
        (DOCUMENTS_FILE, documents),
        (DEV_QUERIES_FILE, dev),
        (TEST_QUERIES_FILE, test),
    ):
        with (out / name).open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return FaqCollection(
        folder=out, entries=len(documents), dev_queries=len(dev), test_queries=len(test)
    )
