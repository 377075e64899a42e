"""Does a change to the triage stages keep every output? Record, then compare.

    nice -n 15 .venv/bin/python bench/triage_equivalence.py record /tmp/before.jsonl
    ... change the code ...
    nice -n 15 .venv/bin/python bench/triage_equivalence.py record /tmp/after.jsonl
    .venv/bin/python bench/triage_equivalence.py compare /tmp/before.jsonl /tmp/after.jsonl

Speed-ups of the per-message Python work (hashing, cue patterns, cleanup) must not move a
single decision, and the heads were trained on exact hashed buckets. So this triages
public texts (``../shared/data``: Bitext instructions, BANKING77, CLINC150 train and
validation, plus ``serving_bench.build_mix`` with subjects, e-mails and some repeat
contacts) with the service's own triager (default settings, shipped models) through
``Triager.triage_many`` in batches of 1 and of 8, and writes every field of every result:
intent (label, confidence, category, alternatives, flags, category probabilities),
urgency (level, score, reasons, probabilities, emergency score and situation), entities,
sentiment, language, routing, focus text and the embedding's bytes. The unrounded numbers
behind them are written too: the intent, urgency and emergency probabilities, the signal
vector, and a digest of the lexical features (buckets and weights). ``compare`` wants
strings, flags and digests equal and floats within 1e-9, and counts bit-identical floats.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.serving_bench import SHARED_DATA, build_mix  # noqa: E402
from bench.triage_stages import serving_resources  # noqa: E402

TOLERANCE = 1e-9
BATCHES = (1, 8)


def public_messages(seed: int = 24) -> list[dict[str, Any]]:
    """2,200 messages: 700 Bitext, 500 BANKING77, 400 CLINC150 train, 200 validation, the
    400-message bench mix (every tenth with two earlier customer turns)."""
    rng = random.Random(seed)

    def column(name: str, field: str, n: int) -> list[dict[str, Any]]:
        with (SHARED_DATA / name).open(encoding="utf-8", newline="") as fh:
            rows = [row[field] for row in csv.DictReader(fh)]
        return [{"source": name, "text": t} for t in rng.sample(rows, n)]

    out = column("bitext_customer_support.csv", "instruction", 700)
    out += column("banking77_train.csv", "text", 500)
    out += column("clinc150_train.csv", "text", 400)
    out += column("clinc150_val.csv", "text", 200)
    for i, m in enumerate(build_mix(400)):
        out.append({"source": "mix", "prior": 2 if i % 10 == 0 else 0, **m})
    return out


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def _plain(value: Any) -> Any:
    """numpy scalars (a numpy bool among the flags) as their Python values."""
    return value.item()


def _digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(a.tobytes())
    return h.hexdigest()[:32]


def result_record(result: Any) -> dict[str, Any]:
    """Every field of a ``TriageResult`` as plain JSON values."""
    i, u = result.intent, result.urgency
    return {
        "intent": {
            "label": i.label,
            "confidence": i.confidence,
            "category": i.category,
            "alternatives": [[a.label, a.confidence] for a in i.alternatives],
            "out_of_scope": i.out_of_scope,
            "ambiguous": i.ambiguous,
            "category_probabilities": dict(i.category_probabilities or {}),
        },
        "model_version": result.model_version,
        "intent_trusted": result.intent_trusted,
        "untrusted_reason": result.untrusted_reason,
        "urgency": None
        if u is None
        else {
            "level": u.level,
            "score": u.score,
            "reasons": list(u.reasons),
            "probabilities": u.probabilities,
            "critical_score": u.critical_score,
            "situation": u.situation,
        },
        "sentiment": None
        if result.sentiment is None
        else [result.sentiment.label, result.sentiment.score],
        "entities": [[e.type, e.value, e.start, e.end, e.source] for e in result.entities],
        "language": None
        if result.language is None
        else [result.language.code, result.language.confidence, result.language.supported],
        "routing": None
        if result.routing is None
        else [result.routing.queue, result.routing.priority, result.routing.rule],
        "focus_text": result.focus_text,
        "embedding": None if result.embedding is None else _digest(result.embedding),
    }


def record(path: Path) -> None:
    """Triage the public messages and write one JSON line per message."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from models.lexical_features import CountedTexts
    from models.triager import ConversationTurn, TriageInput

    rows = public_messages()
    messages = [
        TriageInput(
            text=r["text"],
            subject=r.get("subject"),
            channel=r.get("channel"),
            history=tuple(
                ConversationTurn("customer", "any news?") for _ in range(r.get("prior", 0))
            ),
        )
        for r in rows
    ]
    with serving_resources() as resources:
        triager = resources.models.current.triager
        intent, urgency = triager.intent, triager.urgency
        assert urgency is not None
        by_batch = {
            b: [
                result_record(r)
                for start in range(0, len(messages), b)
                for r in triager.triage_many(messages[start : start + b])
            ]
            for b in BATCHES
        }
        raw: list[dict[str, Any]] = []
        for start in range(0, len(messages), 8):
            chunk = messages[start : start + 8]
            analyses = [
                triager.analyzer.analyze(
                    m.text, subject=m.subject, prior_contacts=m.prior_customer_messages
                )
                for m in chunk
            ]
            texts = CountedTexts(a.focus_text for a in analyses)
            vectors = intent.encoder.encode(texts)
            lexical = intent._lexical.transform(texts) if intent._lexical else None
            intent_proba = intent.predict_proba_embedded(vectors, texts)
            found = intent.predict_embedded(vectors, texts)
            signals = [a.signals for a in analyses]
            urgency_proba = urgency.predict_proba(vectors, signals, intents=found, texts=texts)
            emergency = urgency.emergency.proba(vectors, texts) if urgency.emergency else None
            for j, a in enumerate(analyses):
                row: dict[str, Any] = {
                    "signals": _floats(a.signals.values),
                    "fired": list(a.signals.fired),
                    "signal_facts": [
                        a.signals.days_waited,
                        a.signals.days_late,
                        a.signals.money_max,
                        a.signals.money_text,
                    ],
                    "signal_text": a.signal_text,
                    "intent_proba": _floats(intent_proba[j]),
                    "urgency_proba": _floats(urgency_proba[j]),
                    "emergency_proba": None if emergency is None else _floats(emergency[j]),
                }
                if lexical is not None:
                    one = lexical[j]
                    row["lexical"] = _digest(one.indices, one.data)
                raw.append(row)
    with path.open("w", encoding="utf-8") as fh:
        for n, r in enumerate(rows):
            line = {
                "n": n,
                "source": r["source"],
                **{f"batch{b}": by_batch[b][n] for b in BATCHES},
                "raw": raw[n],
            }
            fh.write(json.dumps(line, ensure_ascii=False, default=_plain) + "\n")
    print(f"{len(rows)} messages written to {path}")


def _walk(a: Any, b: Any, where: str) -> Iterator[tuple[str, str, Any, Any]]:
    """(kind, where, a, b) for every leaf: kind is "same", "float" (close, not identical)
    or "differs"."""
    if isinstance(a, float) and isinstance(b, float):
        if a == b:
            yield "same", where, a, b
        elif abs(a - b) <= TOLERANCE:
            yield "float", where, a, b
        else:
            yield "differs", where, a, b
    elif isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            yield "differs", where + ".keys", sorted(a), sorted(b)
            return
        for k in a:
            yield from _walk(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield "differs", where + ".len", len(a), len(b)
            return
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _walk(x, y, f"{where}[{k}]")
    else:
        yield ("same" if a == b and type(a) is type(b) else "differs"), where, a, b


def compare(before: Path, after: Path, *, show: int = 20) -> int:
    """Print how the two records differ; the exit status is 1 when any output differs."""
    old = before.read_text(encoding="utf-8").splitlines()
    new = after.read_text(encoding="utf-8").splitlines()
    if len(old) != len(new):
        print(f"different message counts: {len(old)} vs {len(new)}")
        return 1
    counts = {"same": 0, "float": 0, "differs": 0}
    shown = 0
    for x, y in zip(old, new, strict=True):
        for kind, where, a, b in _walk(json.loads(x), json.loads(y), "$"):
            counts[kind] += 1
            if kind == "differs" and shown < show:
                print(f"DIFFERS {where}: {a!r} != {b!r}")
                shown += 1
    print(
        f"{len(old)} messages, {sum(counts.values())} values: {counts['same']} identical, "
        f"{counts['float']} floats within {TOLERANCE:g}, {counts['differs']} different"
    )
    return 1 if counts["differs"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("record").add_argument("out", type=Path)
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.out)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
