"""How `triage intents suggest` does on public data we did not write.

1. Hidden intents (CLINC150 validation): a few intents are kept as labelled "known"
   intents; the rows of other intents, mixed with CLINC's 100 out-of-scope queries, are
   the uncovered messages. Does each hidden intent come back as one candidate, and how
   pure is it? Repeated over several random draws.
2. Overlap warnings on BANKING77 (77 fine-grained banking intents, some known to be
   confusable) and Bitext (27 e-commerce intents): which pairs are flagged.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/intent_suggestions_public.py [--data ../shared/data]

Prints figures; never run as a test.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from models.sentence_encoder import SentenceTransformerEncoder
from training.intent_suggestions import IntentSuggester, find_overlaps


def read(path: Path, text: str, label: str) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [(r[text], r[label]) for r in csv.DictReader(fh)]


def hidden_intents(
    rows: list[tuple[str, str]], encoder: SentenceTransformerEncoder, *, draws: int
) -> None:
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        by_label[label].append(text)
    noise = by_label.pop("out_of_scope")
    intents = sorted(by_label)
    print(f"CLINC150 val: {len(intents)} intents x 20 rows, {len(noise)} out-of-scope rows")
    recalls, purities, found, extra = [], [], 0, 0
    for seed in range(draws):
        rng = random.Random(seed)
        chosen = rng.sample(intents, 15)
        known, hidden = chosen[:10], chosen[10:]
        texts = [t for label in known for t in by_label[label]]
        labels = [label for label in known for _ in by_label[label]]
        truth = [""] * len(texts)
        for label in hidden:
            texts += by_label[label]
            labels += [""] * len(by_label[label])
            truth += [label] * len(by_label[label])
        texts += noise
        labels += [""] * len(noise)
        truth += ["(noise)"] * len(noise)
        report = IntentSuggester().suggest(
            texts, encoder.encode(texts), uncovered=[not label for label in labels], labels=labels
        )
        names = []
        for c in report.candidates:
            members = Counter(truth[i] for i in c.members)
            top, n = members.most_common(1)[0]
            names.append(f"{c.name}={top}({n}/{c.size})")
            if top in hidden:
                purities.append(n / c.size)
        for label in hidden:
            best = max(
                (sum(1 for i in c.members if truth[i] == label) for c in report.candidates),
                default=0,
            )
            recalls.append(best / 20)
            found += best >= 10
        extra += sum(
            1
            for c in report.candidates
            if Counter(truth[i] for i in c.members).most_common(1)[0][0] == "(noise)"
        )
        print(f"  draw {seed}: hidden {hidden}")
        print(f"    candidates: {names}")
    print(
        f"  hidden intents recovered (>= 10 of 20 rows in one candidate): {found}/"
        f"{5 * draws}; mean share of a hidden intent's rows in its best candidate "
        f"{np.mean(recalls):.3f}; mean purity of candidates led by a hidden intent "
        f"{np.mean(purities):.3f}; candidates made of out-of-scope noise: {extra}"
    )


def overlaps(
    name: str, rows: list[tuple[str, str]], encoder: SentenceTransformerEncoder, *, per: int
) -> None:
    rng = random.Random(0)
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        by_label[label].append(text)
    texts, labels = [], []
    for label in sorted(by_label):
        sample = rng.sample(by_label[label], min(per, len(by_label[label])))
        texts += sample
        labels += [label] * len(sample)
    flagged = find_overlaps(encoder.encode(texts), labels, texts)
    pairs = len(by_label) * (len(by_label) - 1) // 2
    print(f"{name}: {len(by_label)} intents x {per} rows: {len(flagged)} of {pairs} pairs flagged")
    for o in flagged[:12]:
        print(
            f"  {o.first} / {o.second}: confusion {o.confusion:.2f}, "
            f"centroid cosine {o.centroid_similarity:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--draws", type=int, default=5)
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder().load()
    hidden_intents(read(args.data / "clinc150_val.csv", "text", "label"), encoder, draws=args.draws)
    overlaps("BANKING77", read(args.data / "banking77_train.csv", "text", "label"), encoder, per=30)
    overlaps(
        "Bitext",
        read(args.data / "bitext_customer_support.csv", "instruction", "intent"),
        encoder,
        per=30,
    )


if __name__ == "__main__":
    main()
