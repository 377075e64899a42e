"""Few-shot intents from a spec, measured on BANKING77 (issue 16's figures).

15 of BANKING77's 77 intents are picked with a fixed seed; for each, a spec gets 5, 10 or
20 examples drawn from the train split and a description made from the intent's name
("Customer message about: card arrival"; BANKING77 has no descriptions). The model is
built exactly as ``triage intents build`` builds it (``training/few_shot_intents.py``),
its rejection calibrated on out-of-fold predictions over the examples and CLINC150's
out-of-scope *train* queries; no BANKING row is a negative. Figures:

- accuracy: held-out train rows of the 15 intents (every row not drawn as an example;
  the same rows for every shot count), counted correct only when the right intent is
  given and the message is not rejected;
- accuracy without rejection: the best intent, ignoring the out-of-scope decision;
- OOS recall: share of the rows of the other 62 intents rejected as out of scope.

Each shot count is repeated over several example draws (``--draws``); the table shows the
mean and the range. Published reference: 10-shot USE+ConveRT 85.19 on all 77 intents,
without rejection (Casanueva et al. 2020).

    nice -n 10 python bench/few_shot_banking.py [--shots 5,10,20] [--draws 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("TRIAGE_SHARED_DATA", ROOT.parent / "shared" / "data"))
N_INTENTS = 15
MAX_SHOTS = 20


def _read(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", default="5,10,20")
    parser.add_argument("--draws", type=int, default=3, help="example draws per shot count")
    parser.add_argument("--seed", type=int, default=0, help="seed of the intent pick")
    parser.add_argument("--no-descriptions", action="store_true")
    parser.add_argument(
        "--no-unseen-intents",
        action="store_true",
        help="skip the similarity threshold fitted on intents held out of the spec",
    )
    parser.add_argument("--max-in-scope-drop", type=float, default=None)
    parser.add_argument(
        "--domain-negatives",
        type=int,
        default=0,
        help="also calibrate on 5 rows from each of this many other BANKING77 intents (what a "
        "team's own off-taxonomy messages would be); those intents leave the OOS evaluation",
    )
    args = parser.parse_args()
    shots_list = [int(s) for s in args.shots.split(",")]
    if max(shots_list) > MAX_SHOTS:
        parser.error(f"at most {MAX_SHOTS} shots: the held-out rows are fixed past them")

    import numpy as np

    from training.command_helpers import load_encoder
    from training.few_shot_intents import (
        FEW_SHOT_MAX_IN_SCOPE_DROP,
        SpecBuildOptions,
        build_intent_model,
        read_generic_negatives,
    )
    from training.intent_spec import parse_spec
    from training.intent_training import encode_texts

    # Spec names are slugs: "reverted_card_payment?" becomes "reverted_card_payment".
    rows = [
        (t, re.sub(r"[^a-z0-9_]", "", label)) for t, label in _read(SHARED / "banking77_train.csv")
    ]
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        by_label[label].append(text)
    chosen = sorted(random.Random(args.seed).sample(sorted(by_label), N_INTENTS))
    pools: dict[str, list[str]] = {}
    heldout: list[tuple[str, str]] = []
    for label in chosen:
        texts = list(by_label[label])
        random.Random(f"{args.seed}:{label}").shuffle(texts)
        pools[label] = texts[:MAX_SHOTS]  # examples are drawn from these only
        heldout += [(t, label) for t in texts[MAX_SHOTS:]]
    negatives = read_generic_negatives(SHARED / "clinc150_train.csv")
    rest = sorted(set(by_label) - set(chosen))
    domain = sorted(random.Random(f"{args.seed}:domain").sample(rest, args.domain_negatives))
    for label in domain:
        negatives += random.Random(f"{args.seed}:neg:{label}").sample(by_label[label], 5)
    # OOS evaluation rows: every row of the intents neither in the spec nor calibrating.
    others = [(t, label) for t, label in rows if label in set(rest) - set(domain)]
    drop = (
        args.max_in_scope_drop if args.max_in_scope_drop is not None else FEW_SHOT_MAX_IN_SCOPE_DROP
    )
    options = SpecBuildOptions(
        use_descriptions=not args.no_descriptions,
        max_in_scope_drop=drop,
        unseen_intents=not args.no_unseen_intents,
    )

    encoder = load_encoder()
    print(f"encoder {encoder.model_id}", file=sys.stderr)
    print(
        f"intents (seed {args.seed}): {', '.join(chosen)}\n"
        f"held-out in-scope rows: {len(heldout)}; other-intent rows (OOS): {len(others)}; "
        f"calibration negatives: {len(negatives)} (CLINC150 train out-of-scope queries"
        f"{f', 5 rows of each of {len(domain)} other BANKING77 intents' if domain else ''})",
        file=sys.stderr,
    )
    in_texts = [t for t, _ in heldout]
    in_gold = np.array([label for _, label in heldout])
    oos_texts = [t for t, _ in others]
    in_emb = encode_texts(encoder, in_texts, desc="encoding held-out").astype("float32")
    oos_emb = encode_texts(encoder, oos_texts, desc="encoding other intents").astype("float32")

    results: dict[int, list[dict[str, float]]] = defaultdict(list)
    for shots in shots_list:
        for draw in range(args.draws):
            rng = random.Random(f"draw:{draw}:{shots}")
            spec_raw = {
                "version": 1,
                "name": f"banking15-{shots}shot",
                "intents": [
                    {
                        "name": label,
                        "description": "Customer message about: " + label.replace("_", " "),
                        "examples": rng.sample(pools[label], shots),
                    }
                    for label in chosen
                ],
            }
            spec = parse_spec(spec_raw, source=f"<banking {shots}-shot draw {draw}>")
            started = time.perf_counter()
            result = build_intent_model(
                spec, encoder=encoder, negatives=negatives, options=options, version="bench"
            )
            built = time.perf_counter() - started
            clf = result.classifier
            pin = clf.predict_embedded(in_emb, in_texts)
            pout = clf.predict_embedded(oos_emb, oos_texts)
            pred = np.array([p.label for p in pin])
            rejected_in = np.array([p.out_of_scope for p in pin])
            proba = clf.predict_proba_embedded(in_emb, in_texts)
            in_scope = [i for i, name in enumerate(clf.labels) if name != clf.oos_label]
            top = np.array([clf.labels[in_scope[j]] for j in proba[:, in_scope].argmax(axis=1)])
            results[shots].append(
                {
                    "accuracy": float((pred == in_gold).mean()),
                    "accuracy_no_rejection": float((top == in_gold).mean()),
                    "in_scope_rejected": float(rejected_in.mean()),
                    "oos_recall": float(np.mean([p.out_of_scope for p in pout])),
                    "build_s": built,
                    "p_threshold": clf.heads.oos_threshold,
                    "s_threshold": clf.heads.similarity_threshold,
                }
            )
            print(f"{shots}-shot draw {draw}: {results[shots][-1]}", file=sys.stderr)

    def cell(values: list[float]) -> str:
        mean = statistics.fmean(values)
        return f"{100 * mean:5.1f} ({100 * min(values):.1f}-{100 * max(values):.1f})"

    print(
        f"\nBANKING77, {N_INTENTS} intents (seed {args.seed}), {args.draws} example draws each; "
        f"descriptions {'off' if args.no_descriptions else 'on'}; unseen-intent threshold "
        f"{'off' if args.no_unseen_intents else 'on'}; max in-scope drop {drop}; "
        f"calibration negatives: CLINC150 train out-of-scope"
        + (f" + 5 rows x {len(domain)} other BANKING77 intents" if domain else "")
    )
    header = (
        "| shots | accuracy % | accuracy, no rejection % | in-scope rejected % "
        f"| OOS recall % (other {len(rest) - len(domain)} intents) | build s |"
    )
    print(header)
    print("|---|---|---|---|---|---|")
    for shots in shots_list:
        r = results[shots]
        print(
            f"| {shots} | {cell([x['accuracy'] for x in r])} "
            f"| {cell([x['accuracy_no_rejection'] for x in r])} "
            f"| {cell([x['in_scope_rejected'] for x in r])} "
            f"| {cell([x['oos_recall'] for x in r])} "
            f"| {statistics.fmean(x['build_s'] for x in r):.1f} |"
        )
    print(
        f"held-out rows: {len(heldout)} in scope, {len(others)} other-intent rows; "
        "reference: 10-shot USE+ConveRT 85.19 on all 77 intents, no rejection"
    )


if __name__ == "__main__":
    main()
