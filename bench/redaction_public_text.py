"""Redaction on public text we did not write: what it changes, and what it must not.

    .venv/bin/python bench/redaction_public_text.py

Reads (at run time, from ../shared/data) the Bitext customer-support requests, whose
annotated entities (order ids, invoice ids, refund amounts, cities, names) must all survive
redaction, plus BANKING77 and CLINC150 (card and payment talk without real numbers). Prints
per set how many texts redaction changed and with which placeholder, how many annotated
entity values were wrongly removed, a few changed texts to inspect, and the time per text.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from pathlib import Path

from service.privacy.redaction import CARD, EMAIL, IBAN, PHONE, redact

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRIAGE_SHARED_DATA", REPO.parent / "shared" / "data"))
SETS = {
    "bitext": ("bitext_customer_support.csv", "instruction"),
    "banking77": ("banking77_train.csv", "text"),
    "clinc150": ("clinc150_train.csv", "text"),
}


def main() -> None:
    for name, (file, column) in SETS.items():
        with (SHARED / file).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        texts = [r[column] for r in rows]
        started = time.perf_counter()
        redacted = [redact(t) for t in texts]
        seconds = time.perf_counter() - started
        changed = [(t, r) for t, r in zip(texts, redacted, strict=True) if t != r]
        kinds: Counter[str] = Counter()
        for _, r in changed:
            for placeholder in (EMAIL, PHONE, CARD, IBAN):
                kinds[placeholder] += r.count(placeholder)
        lost: Counter[str] = Counter()
        annotated = 0
        for row, r in zip(rows, redacted, strict=True):
            value = row.get("entity_value") or ""
            if value:
                annotated += 1
                if value in row[column] and value not in r:
                    lost[row.get("entity_type", "?")] += 1
        print(
            f"{name}: {len(texts)} texts, {len(changed)} changed {dict(kinds)}; "
            f"annotated entities removed: {sum(lost.values())} of {annotated} {dict(lost)}; "
            f"{seconds / len(texts) * 1e6:.0f} us per text"
        )
        for before, after in changed[:5]:
            print(f"    {before!r}\n -> {after!r}")


if __name__ == "__main__":
    main()
