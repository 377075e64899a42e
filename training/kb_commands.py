"""`triage kb ...`: build, inspect and evaluate the knowledge-base index."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kb_index.document_loader import load_documents
from kb_index.evaluation import METRIC_KEYS, EvalQuery, QueryOutcome, evaluate, load_queries
from kb_index.fusion_choice import (
    FUSION_FILE,
    FusionChoice,
    QuerySetInfo,
    recorded_fusion,
    write_fusion_file,
)
from kb_index.hybrid_retriever import SEARCH_MODES, SearchMode
from kb_index.knowledge_base import KnowledgeBase
from models.errors import TriageError
from training.command_helpers import fail, load_encoder

#: The actor recorded for weights set from the command line.
CLI_ACTOR = "system:cli"

kb_app = typer.Typer(
    name="kb",
    help="Knowledge base: ingest documents, search and evaluate the index.",
    no_args_is_help=True,
)


def _service_kb() -> tuple[KnowledgeBase, str]:
    """The service's knowledge base: documents in its database (TRIAGE_DATABASE_URL),
    where a running service's workers pick up every change within seconds."""
    from service.database import Database
    from service.kb_rebuild import open_shared_knowledge_base
    from service.settings import Settings

    settings = Settings()
    database = Database(settings.resolved_database_url)
    database.migrate()
    kb = open_shared_knowledge_base(
        settings, database=database, encoder=load_encoder(), follow=False
    )
    return kb, f"database {database.display_url}"


def _open_kb(index: Path | None) -> tuple[KnowledgeBase, str]:
    """The index folder ``index``, or the service's knowledge base without it."""
    if index is None:
        return _service_kb()
    return KnowledgeBase.open(index, encoder=load_encoder()), str(index)


IndexOpt = typer.Option(
    None,
    "--index",
    file_okay=False,
    help="Index folder; default: the service's knowledge base in its database.",
)


@kb_app.command("ingest")
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders (.md, .html, .txt, .jsonl)."),
    index: Path | None = IndexOpt,
) -> None:
    """Add or replace documents; unchanged documents are skipped, changed ones re-embedded."""
    try:
        documents = load_documents(paths)
        fusion = recorded_fusion(paths)
        kb, folder = _open_kb(index)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        ) as progress:
            task = progress.add_task("ingesting", total=len(documents))
            report = kb.upsert(documents, progress=lambda n: progress.advance(task, n))
        # The collection's weights come with it (a folder's fusion.json), once.
        current = kb.fusion_choice
        carried = fusion is not None and (fusion.fusion, fusion.queries) != (
            current.fusion,
            current.queries,
        )
        if fusion is not None and carried:
            kb.record_fusion(fusion.imported(), actor=CLI_ACTOR)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"{folder}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {report.chunks_embedded} chunks embedded; "
        f"{len(kb)} documents, {kb.state.chunk_count} chunks in the index ({kb.version})"
    )
    if carried:
        typer.echo(
            f"fusion weights from {FUSION_FILE}: {json.dumps(kb.fusion_choice.fusion.to_json())}"
        )


@kb_app.command("delete")
def delete(
    doc_ids: list[str] = typer.Argument(..., help="Document ids to remove."),
    index: Path | None = IndexOpt,
) -> None:
    """Remove documents from the index."""
    try:
        kb, folder = _open_kb(index)
        kb.delete(doc_ids)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{folder}: removed {len(doc_ids)}; {len(kb)} documents left ({kb.version})")


@kb_app.command("search")
def search(
    query: str = typer.Argument(..., help="What to look for."),
    index: Path | None = IndexOpt,
    k: int = typer.Option(5, "--k", min=1, max=100),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or bm25."),
) -> None:
    """Print the best documents for a query."""
    if mode not in SEARCH_MODES:
        raise fail(f"--mode must be one of {', '.join(SEARCH_MODES)}")
    try:
        kb, _ = _open_kb(index)
        hits = kb.search(query, k=k, mode=_mode(mode))
    except TriageError as exc:
        raise fail(str(exc)) from exc
    table = Table("score", "doc id", "title", "heading", "snippet")
    for hit in hits:
        table.add_row(f"{hit.score:.3f}", hit.doc_id, hit.title, hit.heading or "", hit.snippet)
    Console().print(table)


def _mode(value: str) -> SearchMode:
    for mode in SEARCH_MODES:
        if mode == value:
            return mode
    raise fail(f"--mode must be one of {', '.join(SEARCH_MODES)}")


def _open_for_evaluation(
    index: Path | None, queries: Path
) -> tuple[KnowledgeBase, str, list[EvalQuery]]:
    """The index (folder, or the service's database without one), where it is, and the
    query set, checked against each other."""
    items = load_queries(queries)
    if index is not None and not index.is_dir():
        raise fail(f"{index}: no index folder")
    kb, where = _open_kb(index)
    if kb.is_empty:
        raise fail(f"{where}: the index is empty")
    unknown = sorted({r for q in items for r in q.relevant} - set(kb.state.documents))
    if unknown:
        raise fail(f"{queries}: relevant ids not in the index: {', '.join(unknown[:5])}")
    return kb, where, items


def _metrics_table(title: str, rows: dict[str, dict[str, float]]) -> Table:
    table = Table(title=title)
    table.add_column("retriever")
    for key in METRIC_KEYS:
        table.add_column(key, justify="right")
    for name, metrics in rows.items():
        table.add_row(name, *(f"{metrics[key]:.4f}" for key in METRIC_KEYS))
    return table


@kb_app.command("evaluate")
def evaluate_index(
    index: Path | None = IndexOpt,
    queries: Path = typer.Option(
        ..., "--queries", exists=True, dir_okay=False, help="JSONL {query, relevant}."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON only."),
    mode: str = typer.Option(
        "hybrid",
        "--mode",
        help="hybrid, dense, bm25, title (the title/question field alone), or all: every "
        "single retriever and the fusion side by side.",
    ),
    show_misses: bool = typer.Option(
        False, "--show-misses", help="List queries whose first relevant hit is not at rank 1."
    ),
) -> None:
    """Recall@1, recall@5, MRR@10 and nDCG@10 of the index on a query set."""
    from kb_index.fusion_selection import SINGLE_MODES, FusionEvaluator

    modes: tuple[SearchMode, ...] = (*SINGLE_MODES, "hybrid") if mode == "all" else (_mode(mode),)
    try:
        kb, where, items = _open_for_evaluation(index, queries)
        evaluator = FusionEvaluator(kb.retriever, kb.state, items)
        results: dict[str, dict[str, float]] = {m: evaluator.metrics(m) for m in modes}
        outcomes: list[QueryOutcome] = []
        if show_misses:
            _, outcomes = evaluate(
                lambda q: [h.doc_id for h in kb.search(q, k=10, mode=modes[-1])], items
            )
    except TriageError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        if mode == "all":
            payload: dict[str, object] = {
                m: {key: metrics[key] for key in METRIC_KEYS} for m, metrics in results.items()
            }
            payload["fusion"] = kb.retriever.fusion.to_json()
            typer.echo(json.dumps(payload))
        else:
            metrics = results[modes[0]]
            typer.echo(json.dumps({key: metrics[key] for key in METRIC_KEYS}))
        return
    console = Console()
    console.print(_metrics_table(f"{queries.name} on {where} ({len(items)} queries)", results))
    if "hybrid" in modes:
        console.print(f"fusion: {json.dumps(kb.retriever.fusion.to_json())}")
    for outcome in outcomes:
        if outcome.first_relevant_rank != 1:
            console.print(
                f"rank {outcome.first_relevant_rank or '>10'}: {outcome.query!r} "
                f"wants {', '.join(outcome.relevant)}; got {', '.join(outcome.ranked[:3])}"
            )


@kb_app.command("tune-fusion")
def tune_fusion(
    index: Path | None = IndexOpt,
    queries: Path = typer.Option(
        ...,
        "--queries",
        exists=True,
        dir_okay=False,
        help="Development queries, JSONL {query, relevant}; never the set you report on.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the choice, record it nowhere (not even --out)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the choice as JSON only."),
    out: Path | None = typer.Option(
        None,
        "--out",
        dir_okay=False,
        help=f"Also write the choice as this file: a documents folder's {FUSION_FILE}, which "
        "`kb ingest` and the service's first-start import carry over.",
    ),
) -> None:
    """Choose this collection's fusion weights on its development queries and record them
    in the index folder, or without --index in the service's database, where every
    worker switches to them within seconds (the service and `kb evaluate` then search
    with them)."""
    from kb_index.fusion_selection import FusionEvaluator

    try:
        kb, where, items = _open_for_evaluation(index, queries)
        selection = FusionEvaluator(kb.retriever, kb.state, items).select()
        choice = FusionChoice.from_selection(
            selection,
            queries=QuerySetInfo.of_file(queries, count=len(items)),
            encoder=kb.encoder.model_id,
        )
        if not dry_run:
            choice = kb.record_fusion(choice, actor=CLI_ACTOR)
            if out is not None:
                write_fusion_file(out, choice)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "fusion": selection.fusion.to_json(),
                    "hybrid": selection.hybrid,
                    **selection.single,
                    "baseline": selection.baseline,
                    "candidates": selection.candidates,
                    "queries": selection.queries,
                }
            )
        )
        return
    console = Console()
    console.print(
        _metrics_table(
            f"{queries.name}: {selection.candidates} fusions compared on "
            f"{selection.queries} queries",
            {**selection.single, "hybrid (chosen)": selection.hybrid},
        )
    )
    console.print(
        f"fusion: {json.dumps(selection.fusion.to_json())} (never below {selection.baseline} "
        "on any fifth of the queries)"
    )
    console.print(
        "kept the index unchanged (--dry-run)"
        if dry_run
        else f"recorded in {where}" + (f" and {out}" if out is not None else "")
    )


@kb_app.command("build-faq")
def build_faq(
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="CSV of questions and answers."
    ),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder to write."),
    question_column: str = typer.Option("instruction", "--question-column"),
    answer_column: str = typer.Option("response", "--answer-column"),
    group_column: str = typer.Option(
        "intent", "--group-column", help="Rows of one group share one FAQ entry."
    ),
    dev_per_entry: int = typer.Option(10, "--dev-per-entry", min=1),
    test_per_entry: int = typer.Option(20, "--test-per-entry", min=1),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Write a FAQ collection (faq.jsonl) with disjoint dev and test query sets from public
    question/answer data such as Bitext; ingest the folder with `triage kb ingest`."""
    from training.faq_collection import build_faq_collection

    try:
        built = build_faq_collection(
            data,
            out,
            question_column=question_column,
            answer_column=answer_column,
            group_column=group_column,
            dev_per_entry=dev_per_entry,
            test_per_entry=test_per_entry,
            seed=seed,
        )
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"wrote {built.folder}: {built.entries} entries, {built.dev_queries} dev queries, "
        f"{built.test_queries} test queries"
    )
