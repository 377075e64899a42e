"""CPU time per message of each stage of ``/v1/triage``, in-process, on the bench mix.

    nice -n 10 .venv/bin/python bench/triage_stages.py [--messages 400] [--passes 3]

The loopback benchmark (``serving_bench.py``) gives rates and latencies; ``request_overhead.py``
splits a request into encoder, triage and the service around it. This one opens the triage
part: the service's own triager (default settings, the shipped models, a temporary data
directory, the thread budget the service applies) runs each stage on its own over the fixed
mix (``serving_bench.build_mix``, seed 13), one message per call as ``/v1/triage`` does, and
prints process CPU time per message (the best of ``--passes`` passes: the machine is shared,
and CPU time moves much less than wall time with other processes' load). A Markdown table,
for README "Performance".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.serving_bench import build_mix  # noqa: E402

if TYPE_CHECKING:
    from service.resources import Resources


@contextmanager
def serving_resources() -> Iterator[Resources]:
    """What ``triage serve`` loads with default settings (the shipped models, the serving
    encoder, the thread budget), on a temporary data directory."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from service.resources import build_serving_encoder, load_resources
    from service.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        resources = load_resources(settings, encoder=build_serving_encoder(settings))
        try:
            yield resources
        finally:
            resources.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from models.lexical_features import CountedTexts
    from models.triager import TriageInput
    from service.messages.message_entry import message_entry
    from service.schemas import TriageResponse

    mix = build_mix(args.messages)
    messages = [
        TriageInput(text=m["text"], subject=m.get("subject"), channel=m.get("channel")) for m in mix
    ]
    with serving_resources() as resources:
        encoder = resources.encoder
        triager = resources.models.current.triager
        analyzer, intent, urgency = triager.analyzer, triager.intent, triager.urgency
        assert urgency is not None and triager.language is not None
        language = triager.language
        backend = encoder.inner
        analyses = [analyzer.analyze(m.text, subject=m.subject, prior_contacts=0) for m in messages]
        # The models read the focus text with its typos corrected, as the triager does.
        texts = list(intent.read(a.focus_text for a in analyses))
        vectors = [backend.encode([t]) for t in texts]
        results = [triager.triage(m) for m in messages]

        def heads(i: int) -> None:
            shared = CountedTexts([texts[i]])
            found = intent.predict_embedded(vectors[i], shared)
            urgency.assess(vectors[i], [analyses[i].signals], intents=found, texts=shared)

        stages: list[tuple[str, Callable[[int], object]]] = [
            (
                "text analysis: cleanup, focus text, entities, sentiment, urgency signals",
                lambda i: analyzer.analyze(
                    messages[i].text, subject=messages[i].subject, prior_contacts=0
                ),
            ),
            (
                "typo correction of the focus text (`IntentClassifier.read`)",
                lambda i: intent.read([analyses[i].focus_text]),
            ),
            (
                f"encoder ({backend.model_id.rpartition('+')[2] or 'torch'}), one text",
                lambda i: backend.encode([texts[i]]),
            ),
            ("intent heads and urgency with its emergency detector", heads),
            ("language", lambda i: language.detect(analyses[i].signal_text)),
            (
                "`Triager.triage_many`, whole (all of the above)",
                lambda i: triager.triage_many([messages[i]]),
            ),
            (
                "message-log entry: redaction, JSON, float16 vector",
                lambda i: message_entry(
                    "triage",
                    results[i],
                    text=messages[i].text,
                    subject=messages[i].subject,
                    channel=messages[i].channel,
                ),
            ),
            (
                "wire response: `TriageResponse.from_domain` and JSON",
                lambda i: TriageResponse.from_domain(results[i]).model_dump_json(),
            ),
        ]
        print(
            f"{len(messages)} messages, best of {args.passes} passes, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        print("| stage | CPU ms per message |")
        print("|---|---|")
        for name, stage in stages:
            best = float("inf")
            for _ in range(args.passes):
                start = time.process_time()
                for i in range(len(messages)):
                    stage(i)
                best = min(best, (time.process_time() - start) / len(messages))
            print(f"| {name} | {best * 1000:.2f} |")


if __name__ == "__main__":
    main()
