"""`triage drafts ...`: fit the answerability gate and evaluate reply drafts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from models.errors import TriageError
from models.protocols import Encoder
from training.command_helpers import fail, load_encoder

if TYPE_CHECKING:
    from training.draft_evaluation import BitextMessage, IntentGuess

app = typer.Typer(
    name="drafts",
    help="Reply drafts: fit the answerability gate, evaluate drafts on Bitext.",
    no_args_is_help=True,
)

DocsOpt = typer.Option(
    None,
    "--docs",
    exists=True,
    help="Help-centre files or folder (default: the sample help centre).",
)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


def build_offline_service(encoder: Encoder, docs: Path | None, **settings: object):  # type: ignore[no-untyped-def]
    """An in-memory knowledge base of ``docs`` and a suggestion service over it."""
    from kb_index.document_loader import load_documents
    from kb_index.knowledge_base import KnowledgeBase
    from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
    from service.drafting.suggestion_service import build_suggestion_service
    from service.respond.respond_policy import RespondPolicy
    from service.settings import Settings

    kb = KnowledgeBase(encoder=encoder)
    kb.upsert(load_documents([docs or SAMPLE_HELP_CENTRE_DIR]))
    policy = RespondPolicy.default()
    service = build_suggestion_service(
        Settings(**settings),  # type: ignore[arg-type]
        encoder=encoder,
        retriever=kb,
        signature=policy.signature,
        max_passages=policy.max_passages,
        index_version=lambda: kb.version,
    )
    return service, kb


@app.command("fit-gate")
def fit_gate_command(
    negatives: Path = typer.Option(
        ..., "--negatives", exists=True, dir_okay=False, help="CLINC150 CSV (text,label)."
    ),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Gate artifact folder."),
    queries: Path | None = typer.Option(
        None, "--queries", exists=True, dir_okay=False, help="Answerable dev queries (JSONL)."
    ),
    docs: Path | None = DocsOpt,
    per_intent: int = typer.Option(2, "--per-intent", min=1, help="Off-topic texts per intent."),
    version: str = typer.Option(None, "--version", help="Artifact version (default: UTC date)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fit the relevance threshold below which drafts become a holding reply."""
    from kb_index.evaluation import load_queries
    from kb_index.sample_help_centre import DEV_QUERIES_PATH
    from models.artifact_manifest import sha256_file
    from training.answerability_fitting import fit_gate, relevances
    from training.datasets import clinc_negatives, read_labelled_csv

    try:
        encoder = load_encoder()
        service, kb = build_offline_service(encoder, docs, drafts_min_relevance=0.0)
        query_file = queries or DEV_QUERIES_PATH
        positives_text = [q.query for q in load_queries(query_file)]
        clinc = read_labelled_csv(negatives, text_column="text", label_column="label")
        # Every CLINC intent unrelated to e-commerce support, its own out_of_scope included.
        negatives_text = clinc_negatives(
            clinc, per_intent=per_intent, seed=seed, source_oos_label=""
        )
    except TriageError as exc:
        raise fail(str(exc)) from exc
    with _progress() as progress:
        task = progress.add_task("scoring queries", total=len(positives_text) + len(negatives_text))

        def step(n: int) -> None:
            progress.advance(task, n)

        pos = relevances(service, positives_text, progress=step)
        neg = relevances(service, negatives_text, progress=step)
    version = version or datetime.now(UTC).strftime("%Y.%m.%d")
    fit = fit_gate(pos, neg, version=version)
    training_data = {
        "answerable": {"path": str(query_file), "sha256": sha256_file(query_file)},
        "off_topic": {
            "path": str(negatives),
            "sha256": clinc.sha256,
            "per_intent": per_intent,
            "seed": seed,
            "excluded_intents": "training.datasets.CLINC_OVERLAPPING_INTENTS",
        },
        "kb_index": kb.version,
        "retrieved_per_query": service.max_passages,
    }
    fit.gate.save(
        out,
        name="answerability-gate",
        version=version,
        encoder=encoder,
        training_data=training_data,
        metrics=fit.metrics,
    )
    typer.echo(json.dumps(fit.metrics, indent=2))
    typer.echo(f"slope {fit.gate.slope}, intercept {fit.gate.intercept}; wrote {out}")


@app.command("evaluate")
def evaluate_command(
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="bitext_customer_support.csv"
    ),
    out: Path | None = typer.Option(
        None, "--out", file_okay=False, help="Write report.md and metrics.json here."
    ),
    per_intent: int = typer.Option(
        0, "--per-intent", min=0, help="Seeded sample per intent (0: every message)."
    ),
    intents: str = typer.Option(
        ",".join(
            (
                "check_refund_policy",
                "payment_issue",
                "change_shipping_address",
                "delivery_options",
                "complaint",
            )
        ),
        "--intents",
        help="Comma-separated Bitext intents (those that reach `suggest`).",
    ),
    docs: Path | None = DocsOpt,
    seed: int = typer.Option(0, "--seed"),
    intent_source: str = typer.Option(
        "predicted",
        "--intent-source",
        help="Intent drafting is told: `predicted` by the active intent model (what the "
        "service does), `gold` (the data set's label) or `none` (retrieval alone).",
    ),
) -> None:
    """Share of drafts citing an on-topic article, and similarity to Bitext's responses."""
    from models.sentiment_analyzer import SentimentAnalyzer
    from training.draft_evaluation import (
        evaluate_drafts,
        read_bitext,
        read_topics,
        summarise,
        write_report,
    )

    if intent_source not in {"predicted", "gold", "none"}:
        raise fail(f"--intent-source: {intent_source!r} is not one of predicted, gold, none")

    wanted = [i.strip() for i in intents.split(",") if i.strip()]
    topics = read_topics()
    missing = [i for i in wanted if i not in topics]
    if missing:
        raise fail(f"no on-topic articles defined for {', '.join(missing)}")
    try:
        encoder = load_encoder()
        service, kb = build_offline_service(encoder, docs)
        messages = read_bitext(data, intents=wanted, per_intent=per_intent or None, seed=seed)
        intent_of = _intent_source(intent_source, encoder, messages)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    analyzer = SentimentAnalyzer()
    with _progress() as progress:
        task = progress.add_task("drafting", total=len(messages))
        results = evaluate_drafts(
            service,
            messages,
            topics=topics,
            encoder=encoder,
            sentiment=lambda text: analyzer.analyze(text).label,
            intent_of=intent_of,
            progress=lambda n: progress.advance(task, n),
            seed=seed,
        )
    summary = summarise(results)
    typer.echo(json.dumps(summary, indent=2))
    if out is not None:
        path = write_report(
            results,
            summary,
            out,
            context={
                "data": f"{data} ({len(messages)} messages)",
                "knowledge base": kb.version,
                "generator": service.generator.name,
                "gate": service.gate.version,
                "intent given to drafting": intent_source,
                "evaluated at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        typer.echo(f"wrote {path}")


def _intent_source(
    source: str, encoder: Encoder, messages: Sequence[BitextMessage]
) -> Callable[[BitextMessage], IntentGuess]:
    """The intent drafting is told for each message: the active intent model's decision
    (as the service passes it), the data set's label, or none."""
    from training.draft_evaluation import IntentGuess, gold_intent

    if source == "gold":
        return gold_intent
    if source == "none":
        return lambda message: IntentGuess(None)
    from models.intent_classifier import IntentClassifier
    from service.settings import Settings

    classifier = IntentClassifier.from_artifact(Settings().intent_model_dir, encoder=encoder)
    predictions = classifier.predict([m.text for m in messages])
    guesses = {
        m: IntentGuess(None) if p.out_of_scope else IntentGuess(p.label, p.confidence, p.ambiguous)
        for m, p in zip(messages, predictions, strict=True)
    }
    return lambda message: guesses[message]
