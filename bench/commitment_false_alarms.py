"""Commitments the detector reads into agent text that promises nothing: Bitext's
assistant replies (generic how-to answers, not ours).

Each sampled row becomes a two-turn conversation (the request, then the reply); the script
prints the share of replies holding a binding commitment (promised or done, unconditional)
by kind, and examples to read.

    PYTHONPATH=. python bench/commitment_false_alarms.py [--n 300] [--seed 3]

Prints figures; never run as a test.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from pathlib import Path

from models.commitment_detector import CommitmentDetector
from models.triager import ConversationTurn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--examples", type=int, default=12)
    args = parser.parse_args()
    with (args.data / "bitext_customer_support.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    random.Random(args.seed).shuffle(rows)
    detector = CommitmentDetector()
    kinds: Counter[str] = Counter()
    flagged = 0
    shown = 0
    for row in rows[: args.n]:
        turns = [
            ConversationTurn("customer", row["instruction"]),
            ConversationTurn("agent", row["response"]),
        ]
        binding = [c for c in detector.detect(turns) if c.binding]
        if not binding:
            continue
        flagged += 1
        kinds.update(c.kind.value for c in binding)
        if shown < args.examples:
            shown += 1
            print(f"  {row['intent']:<22} {binding[0].kind.value:<14} {binding[0].sentence[:110]}")
    print(
        f"replies read as holding a binding commitment: {flagged}/{args.n} = "
        f"{flagged / args.n:.1%}; by kind: {dict(kinds.most_common())}"
    )


if __name__ == "__main__":
    main()
