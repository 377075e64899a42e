"""Build a feedback export (the JSONL of ``GET /v1/feedback/export``) in which agents correct
a phrasing the serving intent model gets wrong: input for ``triage retrain``.

Each message is classified by the active intent model (the registry's, as the service
would), recorded as a suggestion in a throw-away feedback database, and an agent's verdict
naming ``--intent`` is added; the store's own export writes the JSONL. So the file has the
exact shape and provenance (predicted intent, model version) of a real export.

    python bench/feedback_corrections.py training/data/feedback/damaged_on_arrival.txt \
        --intent complaint --out /tmp/damaged_feedback.jsonl

Prints how many of the messages the active model got wrong, and what it said instead.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", type=Path, help="one customer message per line")
    parser.add_argument("--intent", required=True, help="the intent agents say they have")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--outcome", default="rejected", choices=["accepted", "edited", "rejected"])
    args = parser.parse_args()

    from models.intent_classifier import IntentClassifier
    from service.database import Database
    from service.drafting.draft import Draft, DraftSet
    from service.feedback.feedback_store import FeedbackInput, FeedbackStore, SuggestionContext
    from training.command_helpers import load_encoder
    from training.registry_commands import open_registry

    lines = args.messages.read_text(encoding="utf-8").splitlines()
    messages = [line.strip() for line in lines if line.strip()]
    entry = open_registry(None).active("intent")
    assert entry is not None
    model = IntentClassifier.from_artifact(entry.path, encoder=load_encoder())
    if args.intent not in model.labels:
        raise SystemExit(f"{args.intent!r} is not a label of {model.version}")
    predictions = model.predict(messages)
    start = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{tmp}/feedback.db")
        database.migrate()
        store = FeedbackStore(database, intent_labels=model.labels)
        try:
            for i, (text, prediction) in enumerate(zip(messages, predictions, strict=True)):
                set_id = f"{i:032x}"
                drafts = DraftSet(
                    id=set_id,
                    drafts=(Draft(f"{set_id}-1", "Thanks for getting in touch.", (), False, 0.1),),
                    passages=(),
                    needs_agent=True,
                    relevance=0.1,
                    generator="holding",
                )
                context = SuggestionContext(
                    text, "email", "suggest", intent=prediction.label, model_version=model.version
                )
                store.record(decision=None, drafts=drafts, context=context, now=start)
                store.add_feedback(
                    FeedbackInput(set_id, args.outcome, correct_intent=args.intent),
                    now=start + timedelta(seconds=i),
                )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("w", encoding="utf-8") as fh:
                for record in store.export():
                    fh.write(json.dumps(record) + "\n")
        finally:
            database.close()
    wrong = Counter(p.label for p in predictions if p.label != args.intent)
    print(
        f"{model.version}: {sum(wrong.values())} of {len(messages)} messages not {args.intent} "
        f"({dict(wrong.most_common())}); wrote {args.out}"
    )


if __name__ == "__main__":
    main()
