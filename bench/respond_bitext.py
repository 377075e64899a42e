"""``/v1/respond`` over 400 Bitext requests through real HTTP: actions and escalation reasons.

Bitext holds routine shop requests and no emergency, so ``urgency_critical`` should be
the exception among escalations, not the rule (issue 10). The script starts ``triage
serve`` (uvicorn) with default settings in a temporary data directory on a free port,
posts each message as an e-mail from a customer the demo order database does not know,
and prints the actions, the escalation reasons and the urgency levels.

Messages: 400 drawn (seed 7) from the Bitext rows on the held-out side of the fixed split
(``training/urgency_public_sets.py``), i.e. never read when the urgency model was trained
or calibrated; ``--side all`` draws from every row.

    .venv/bin/python bench/respond_bitext.py [--n 400] [--urgency-model DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TRIAGE_SHARED_DATA", REPO.parent / "shared" / "data"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from serving_bench import free_port, start_server, stop_server  # noqa: E402


def post(port: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One JSON POST; returns the JSON answer (an HTTP error raises)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def sample(n: int, *, side: str, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` Bitext (text, intent) pairs from one side of the fixed split (or all rows)."""
    from training.urgency_public_sets import read_bitext

    rows = read_bitext(
        SHARED_DATA / "bitext_customer_support.csv",
        side=None if side == "all" else "held_out",
    )
    picked = random.Random(seed).sample(rows, min(n, len(rows)))
    return [(m.text, m.label) for m in picked]


def main() -> None:
    """Run the bench and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--side", choices=("held_out", "all"), default="held_out")
    parser.add_argument("--urgency-model", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="Write the figures here.")
    args = parser.parse_args()

    messages = sample(args.n, side=args.side)
    env = {}
    if args.urgency_model is not None:
        env["TRIAGE_URGENCY_MODEL_DIR"] = str(args.urgency_model.resolve())
    actions: Counter[str] = Counter()
    escalation_reasons: Counter[str] = Counter()
    urgency: Counter[str] = Counter()
    critical_by_intent: Counter[str] = Counter()
    critical_examples: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="respond-bitext-") as tmp:
        data_dir = Path(tmp)
        log = data_dir / "server.log"
        port = free_port()
        proc, _ = start_server(None, data_dir, port, log, env)
        try:
            for text, intent in messages:
                body = {
                    "message": {"text": text, "channel": "email"},
                    "customer": {"email": "bench-customer@example.com"},
                }
                answer = post(port, "/v1/respond", body)
                actions[answer["action"]] += 1
                level = answer["triage"]["urgency"]["level"]
                urgency[level] += 1
                if answer["action"] == "escalate":
                    escalation_reasons.update(answer["reasons"])
                if level == "critical":
                    critical_by_intent[intent] += 1
                    critical_examples.append(
                        {"text": text, "reasons": answer["triage"]["urgency"]["reasons"]}
                    )
        finally:
            stop_server(proc)
    n = len(messages)
    figures = {
        "messages": n,
        "side": args.side,
        "actions": dict(actions.most_common()),
        "escalation_reasons": dict(escalation_reasons.most_common()),
        "urgency": dict(urgency.most_common()),
        "critical_by_intent": dict(critical_by_intent.most_common()),
        "critical_examples": critical_examples[:10],
    }
    print(f"/v1/respond over {n} Bitext messages ({args.side} side), real HTTP")
    for action, count in actions.most_common():
        print(f"  {action:<12} {count:>4}  {100 * count / n:5.1f}%")
    escalated = actions.get("escalate", 0)
    print(f"escalation reasons (of {escalated} escalations; one message may carry several):")
    for reason, count in escalation_reasons.most_common():
        print(f"  {reason:<24} {count:>4}")
    print("urgency levels: " + ", ".join(f"{k} {v}" for k, v in urgency.most_common()))
    for example in critical_examples[:10]:
        print(f"  critical: {example['text'][:80]!r} {example['reasons']}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
