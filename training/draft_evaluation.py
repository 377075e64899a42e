"""Evaluating reply drafts on Bitext messages of intents that reach ``suggest``.

Two questions, per intent and overall:

- topic: does a draft cite a help-centre article about the right topic? The intent to
  articles mapping (``training/data/drafts/intent_topics.json``) was written from the
  article titles before any draft was evaluated.
- closeness to what a human agent wrote: cosine similarity of sentence embeddings
  (the service's encoder) between the first draft and the Bitext reference response,
  with ROUGE-L F1 beside it. Bitext responses answer a generic shop with ``{{...}}``
  slots; the draft answers from the demo store's help centre, so absolute values are
  low by construction. The same similarity against the reference of a message of
  another intent is reported as the floor to compare with.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.entity_extractor import EntityExtractor, order_ids_of
from models.protocols import Encoder
from service.drafting.draft import DraftSet
from service.drafting.draft_request import DraftRequest
from service.drafting.suggestion_service import SuggestionService

TOPICS_PATH = Path(__file__).resolve().parent / "data" / "drafts" / "intent_topics.json"
SUGGEST_INTENTS = (
    "check_refund_policy",
    "payment_issue",
    "change_shipping_address",
    "delivery_options",
    "complaint",
)
_SLOT = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")


@dataclass(frozen=True)
class BitextMessage:
    """A customer message with its intent and the reference agent response."""

    text: str
    intent: str
    reference: str


@dataclass
class Evaluated:
    """One message's drafts and their scores."""

    message: BitextMessage
    drafts: DraftSet
    first_on_topic: bool
    any_on_topic: bool
    on_topic_drafts: int
    cosine: float = 0.0
    cosine_answer: float = 0.0
    cosine_other: float = 0.0
    rouge_l: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def read_topics(path: Path = TOPICS_PATH) -> dict[str, frozenset[str]]:
    """Intent → on-topic article ids."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: frozenset(v) for k, v in raw.items() if not k.startswith("_")}


def fill_slots(text: str) -> str:
    """``{{Order Number}}`` → ``order number``: a slot is read as the words it names."""
    return _SLOT.sub(lambda m: m.group(1).lower(), text)


def read_bitext(
    path: Path, *, intents: Sequence[str], per_intent: int | None, seed: int = 0
) -> list[BitextMessage]:
    """Messages of ``intents`` (all, or a seeded sample of ``per_intent`` each)."""
    by_intent: dict[str, list[BitextMessage]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["intent"] in intents:
                by_intent[row["intent"]].append(
                    BitextMessage(row["instruction"].strip(), row["intent"], row["response"])
                )
    rng = random.Random(seed)
    out: list[BitextMessage] = []
    for intent in intents:
        rows = by_intent[intent]
        if per_intent is not None and per_intent < len(rows):
            rows = rng.sample(rows, per_intent)
        out += rows
    return out


@dataclass(frozen=True)
class IntentGuess:
    """The intent drafting is told about (``None`` when triage found none)."""

    label: str | None
    confidence: float | None = None
    ambiguous: bool = False


def gold_intent(message: BitextMessage) -> IntentGuess:
    """The data set's label, as if triage were always right and sure."""
    return IntentGuess(message.intent)


def evaluate_drafts(
    service: SuggestionService,
    messages: Sequence[BitextMessage],
    *,
    topics: Mapping[str, frozenset[str]],
    encoder: Encoder,
    sentiment: Callable[[str], str | None] = lambda text: None,
    intent_of: Callable[[BitextMessage], IntentGuess] = gold_intent,
    progress: Callable[[int], None] | None = None,
    seed: int = 0,
) -> list[Evaluated]:
    """Draft every message (e-mail channel) and score the drafts.

    ``intent_of`` gives the intent drafting sees: the shipped model's prediction is
    what the service does; no intent at all measures retrieval alone.
    """
    from rouge_score import rouge_scorer

    results: list[Evaluated] = []
    extractor = EntityExtractor()
    for message in messages:
        guess = intent_of(message)
        text = fill_slots(message.text)
        request = DraftRequest(
            text=text,
            intent=guess.label,
            intent_confidence=guess.confidence,
            intent_ambiguous=guess.ambiguous,
            sentiment=sentiment(message.text),
            order_ids=order_ids_of(extractor.extract(text)),
        )
        drafts = service.suggest(request)
        wanted = topics.get(message.intent, frozenset())
        cited = [{c.doc_id for c in d.citations} for d in drafts.drafts if not drafts.needs_agent]
        results.append(
            Evaluated(
                message=message,
                drafts=drafts,
                first_on_topic=bool(cited and cited[0] & wanted),
                any_on_topic=any(c & wanted for c in cited),
                on_topic_drafts=sum(1 for c in cited if c & wanted),
                extra={"intent_correct": guess.label == message.intent},
            )
        )
        if progress is not None:
            progress(1)
    # Similarities in batches: the first draft (whole and answer part) vs the reference,
    # and vs the reference of a message of another intent (the floor).
    rng = random.Random(seed)
    firsts = [r.drafts.drafts[0] for r in results]
    answers = [" ".join(s.text for s in d.answer_sentences) or d.text for d in firsts]
    references = [fill_slots(r.message.reference) for r in results]
    others = []
    for r in results:
        pool = [i for i, o in enumerate(results) if o.message.intent != r.message.intent]
        others.append(references[rng.choice(pool)] if pool else references[0])
    vectors = encoder.encode([d.text for d in firsts] + answers + references + others)
    n = len(results)
    draft_v, answer_v = vectors[:n], vectors[n : 2 * n]
    ref_v, other_v = vectors[2 * n : 3 * n], vectors[3 * n :]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    for i, r in enumerate(results):
        r.cosine = float(draft_v[i] @ ref_v[i])
        r.cosine_answer = float(answer_v[i] @ ref_v[i])
        r.cosine_other = float(draft_v[i] @ other_v[i])
        r.rouge_l = float(scorer.score(references[i], firsts[i].text)["rougeL"].fmeasure)
    return results


def summarise(results: Sequence[Evaluated]) -> dict[str, Any]:
    """Figures per intent and over all messages."""

    def figures(rows: Sequence[Evaluated]) -> dict[str, Any]:
        drafts = sum(len(r.drafts.drafts) for r in rows if not r.drafts.needs_agent)
        answered = [r for r in rows if not r.drafts.needs_agent]
        return {
            "messages": len(rows),
            "answered": round(float(np.mean([not r.drafts.needs_agent for r in rows])), 4),
            "first_draft_on_topic": round(float(np.mean([r.first_on_topic for r in rows])), 4),
            "any_draft_on_topic": round(float(np.mean([r.any_on_topic for r in rows])), 4),
            "first_draft_on_topic_when_answered": round(
                float(np.mean([r.first_on_topic for r in answered])), 4
            )
            if answered
            else None,
            "drafts_on_topic": round(sum(r.on_topic_drafts for r in rows) / drafts, 4)
            if drafts
            else None,
            "grounded_first_drafts": round(
                float(np.mean([r.drafts.drafts[0].grounded for r in rows])), 4
            ),
            "cosine_to_reference": round(float(np.mean([r.cosine for r in rows])), 4),
            "cosine_answer_to_reference": round(float(np.mean([r.cosine_answer for r in rows])), 4),
            "cosine_to_other_intent_reference": round(
                float(np.mean([r.cosine_other for r in rows])), 4
            ),
            "rouge_l_f1": round(float(np.mean([r.rouge_l for r in rows])), 4),
            "intent_seen_correct": round(
                float(np.mean([bool(r.extra.get("intent_correct")) for r in rows])), 4
            ),
        }

    by_intent: dict[str, list[Evaluated]] = defaultdict(list)
    for r in results:
        by_intent[r.message.intent].append(r)
    return {
        "overall": figures(results),
        "by_intent": {k: figures(v) for k, v in by_intent.items()},
    }


def write_report(
    results: Sequence[Evaluated],
    summary: Mapping[str, Any],
    folder: Path,
    *,
    context: Mapping[str, str],
) -> Path:
    """``report.md`` (tables and example drafts) and ``metrics.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    keys = list(summary["overall"])
    lines = ["# Reply-draft evaluation on Bitext", ""]
    lines += [f"- {k}: {v}" for k, v in context.items()]
    lines += ["", "| intent | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, row in [*summary["by_intent"].items(), ("**all**", summary["overall"])]:
        lines.append(f"| {name} | " + " | ".join(str(row[k]) for k in keys) + " |")
    lines += ["", "## Example drafts (first draft of the first message per intent)", ""]
    shown: set[str] = set()
    for r in results:
        if r.message.intent in shown:
            continue
        shown.add(r.message.intent)
        first = r.drafts.drafts[0]
        cited = ", ".join(c.doc_id for c in first.citations) or "none (holding reply)"
        lines += [
            f"### {r.message.intent}",
            "",
            f"Message: {r.message.text}",
            "",
            f"Cites: {cited}; grounded: {first.grounded}; confidence: {first.confidence}",
            "",
            "```",
            first.text,
            "```",
            "",
        ]
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
