"""`triage kb ...`: build, inspect and evaluate the knowledge-base index."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kb_index.document_loader import load_documents
from kb_index.evaluation import METRIC_KEYS, evaluate, load_queries
from kb_index.hybrid_retriever import SEARCH_MODES, SearchMode
from kb_index.knowledge_base import KnowledgeBase
from models.errors import TriageError
from training.command_helpers import fail, load_encoder

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
        if index is None:
            kb, folder = _service_kb()
        else:
            kb, folder = KnowledgeBase.open(index, encoder=load_encoder()), str(index)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        ) as progress:
            task = progress.add_task("ingesting", total=len(documents))
            report = kb.upsert(documents, progress=lambda n: progress.advance(task, n))
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"{folder}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {report.chunks_embedded} chunks embedded; "
        f"{len(kb)} documents, {kb.state.chunk_count} chunks in the index ({kb.version})"
    )


@kb_app.command("delete")
def delete(
    doc_ids: list[str] = typer.Argument(..., help="Document ids to remove."),
    index: Path | None = IndexOpt,
) -> None:
    """Remove documents from the index."""
    try:
        if index is None:
            kb, folder = _service_kb()
        else:
            kb, folder = KnowledgeBase.open(index, encoder=load_encoder()), str(index)
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
        kb = (
            _service_kb()[0] if index is None else KnowledgeBase.open(index, encoder=load_encoder())
        )
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


@kb_app.command("evaluate")
def evaluate_index(
    index: Path = typer.Option(..., "--index", file_okay=False, help="Index folder."),
    queries: Path = typer.Option(
        ..., "--queries", exists=True, dir_okay=False, help="JSONL {query, relevant}."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON only."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or bm25."),
    show_misses: bool = typer.Option(
        False, "--show-misses", help="List queries whose first relevant hit is not at rank 1."
    ),
) -> None:
    """Recall@1, recall@5, MRR@10 and nDCG@10 of the index on a query set."""
    search_mode = _mode(mode)
    try:
        items = load_queries(queries)
        if not index.is_dir():
            raise fail(f"{index}: no index folder")
        kb = KnowledgeBase.open(index, encoder=load_encoder())
        if kb.is_empty:
            raise fail(f"{index}: the index is empty")
        unknown = sorted({r for q in items for r in q.relevant} - set(kb.state.documents))
        if unknown:
            raise fail(f"{queries}: relevant ids not in the index: {', '.join(unknown[:5])}")
        metrics, outcomes = evaluate(
            lambda q: [h.doc_id for h in kb.search(q, k=10, mode=search_mode)], items
        )
    except TriageError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps({key: metrics[key] for key in METRIC_KEYS}))
        return
    table = Table(title=f"{queries.name} on {index} ({search_mode}, {len(items)} queries)")
    for key in METRIC_KEYS:
        table.add_column(key, justify="right")
    table.add_row(*(f"{metrics[key]:.4f}" for key in METRIC_KEYS))
    console = Console()
    console.print(table)
    if show_misses:
        for outcome in outcomes:
            if outcome.first_relevant_rank != 1:
                console.print(
                    f"rank {outcome.first_relevant_rank or '>10'}: {outcome.query!r} "
                    f"wants {', '.join(outcome.relevant)}; got {', '.join(outcome.ranked[:3])}"
                )
