"""Do the shipped heads serve the same answers on every encoder backend?

    .venv/bin/python bench/encoder_backend_agreement.py [--messages 400]

The shipped intent, urgency and answerability-gate artifacts were fitted on PyTorch fp32
embeddings. For each backend this serves them unchanged (as ``check_encoder`` allows for
the same weights) and compares with torch fp32, message by message:

- the intent label, urgency level and language of the serving benchmark's message mix
  (``bench/serving_bench.py``: Bitext requests, our urgency data set, composed e-mails);
- the urgency model's held-out test split (our own data): macro-F1 and critical recall;
- the gate's answer/hold decision for the help centre's development queries (answerable)
  and the mix (mostly off-topic for the sample help centre), and its balanced accuracy on
  its own fitting data (dev queries vs CLINC150 off-topic texts) at the shipped threshold
  and at a threshold refitted on the backend;
- the cosine agreement of the vectors.

The intent model's held-out figures per backend come from ``triage split/train/evaluate``
(README "Reproducing the figures", with ``TRIAGE_ENCODER_BACKEND`` set).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from serving_bench import BACKENDS, SHARED_DATA, build_mix  # noqa: E402

DEV_QUERIES = REPO / "kb_index" / "sample_help_centre" / "dev_queries.jsonl"
URGENCY_DATA = REPO / "training" / "data" / "urgency" / "urgency_messages.jsonl"


def serve(backend: str, mix: Sequence[dict[str, str]], queries: Sequence[str]) -> dict[str, Any]:
    """Every decision the shipped heads make on ``backend``."""
    from kb_index.document_loader import load_documents
    from kb_index.knowledge_base import KnowledgeBase
    from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
    from models.encoder_factory import build_encoder
    from models.intent_classifier import IntentClassifier
    from models.triager import TriageInput
    from service.drafting.draft_request import DraftRequest
    from service.drafting.suggestion_service import build_suggestion_service
    from service.resources import build_triager
    from service.settings import Settings

    settings = Settings()
    encoder = build_encoder(backend)  # type: ignore[arg-type]
    intent = IntentClassifier.from_artifact(settings.intent_model_dir, encoder=encoder)
    triager, _ = build_triager(settings, intent=intent, encoder=encoder)
    results = triager.triage_many(
        [TriageInput(text=m["text"], subject=m.get("subject"), channel=m["channel"]) for m in mix]
    )
    urgency_rows = [json.loads(line) for line in URGENCY_DATA.read_text().splitlines()]
    test = [r for r in urgency_rows if r["split"] == "test"]
    urgency_test = triager.triage_many([TriageInput(text=r["text"]) for r in test])
    kb = KnowledgeBase(encoder=encoder)
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    drafter = build_suggestion_service(
        settings, encoder=encoder, retriever=kb, signature="The team", max_passages=3
    )
    gate_texts = [*queries, *(m["text"] for m in mix)]
    answerable = [
        drafter.gate.answerable(drafter.check(DraftRequest(text=t)).relevance) for t in gate_texts
    ]
    # The gate's own fitting data: dev queries (answerable) and CLINC150 off-topic texts.
    from training.answerability_fitting import best_threshold, relevances
    from training.datasets import clinc_negatives, read_labelled_csv

    clinc = read_labelled_csv(
        SHARED_DATA / "clinc150_train.csv", text_column="text", label_column="label"
    )
    negatives = clinc_negatives(clinc, per_intent=2, seed=0, source_oos_label="")
    pos = np.asarray(relevances(drafter, queries))
    neg = np.asarray(relevances(drafter, negatives))

    def balanced(threshold: float) -> tuple[float, float, float]:
        answered, held = float((pos >= threshold).mean()), float((neg < threshold).mean())
        return answered, held, (answered + held) / 2

    refit = best_threshold(pos.tolist(), neg.tolist())
    return {
        "intent": [r.intent.label for r in results],
        "urgency": [r.urgency.level if r.urgency else None for r in results],
        "language": [r.language.code if r.language else None for r in results],
        "urgency_test": [r.urgency.level if r.urgency else None for r in urgency_test],
        "urgency_gold": [r["level"] for r in test],
        "answerable": answerable,
        "queries": len(queries),
        "gate_shipped": (drafter.gate.threshold, *balanced(drafter.gate.threshold)),
        "gate_refit": (refit, *balanced(refit)),
        "vectors": encoder.encode([m["text"] for m in mix]),
    }


def macro_f1(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Macro-averaged F1 over the gold labels."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label and g != label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args(argv)
    mix = build_mix(args.messages)
    queries = [json.loads(line)["query"] for line in DEV_QUERIES.read_text().splitlines()]
    served = {backend: serve(backend, mix, queries) for backend in BACKENDS}
    ref = served["torch"]
    n = len(mix)
    print(f"{len(mix)} messages of the serving mix; {len(queries)} help-centre dev queries")
    print(
        f"{'backend':<10} {'cosine mean/min':>16} {'intent':>8} {'urgency':>8} {'language':>9} "
        f"{'gate':>6} {'dev answered':>13} {'urgency test F1':>16} {'critical recall':>16}"
    )
    for backend, out in served.items():
        cosine = (out["vectors"] * ref["vectors"]).sum(axis=1)

        def same(key: str, out: dict[str, Any] = out) -> float:
            return float(np.mean([a == b for a, b in zip(out[key], ref[key], strict=True)]))

        gold = out["urgency_gold"]
        critical = [i for i, g in enumerate(gold) if g == "critical"]
        recall = np.mean([out["urgency_test"][i] == "critical" for i in critical])
        answered = np.mean(out["answerable"][: out["queries"]])
        print(
            f"{backend:<10} {cosine.mean():>8.4f}/{cosine.min():.4f} {same('intent'):>8.3f} "
            f"{same('urgency'):>8.3f} {same('language'):>9.3f} {same('answerable'):>6.3f} "
            f"{answered:>13.3f} {macro_f1(gold, out['urgency_test']):>16.3f} {recall:>16.3f}"
        )
    print(f"(agreement columns: share of the {n} messages, or messages and queries for the gate,")
    print(" on which the backend decides as torch fp32 does)")
    print(
        "\nanswerability gate on its fitting data (dev queries answered, CLINC150 off-topic held)"
    )
    print(
        f"{'backend':<10} {'gate':<8} {'threshold':>9} {'answered':>9} {'held':>7} {'balanced':>9}"
    )
    for backend, out in served.items():
        for name in ("shipped", "refit"):
            threshold, answered, held, bal = out[f"gate_{name}"]
            print(
                f"{backend:<10} {name:<8} {threshold:>9.4f} {answered:>9.3f} {held:>7.3f} "
                f"{bal:>9.4f}"
            )


if __name__ == "__main__":
    main()
