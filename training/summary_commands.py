"""`triage summaries evaluate`: agent commitments found in labelled conversations."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from training.summary_evaluation import evaluate_commitments, read_conversations

app = typer.Typer(help="Hand-off summaries of conversations.", no_args_is_help=True)


@app.command("evaluate")
def evaluate(
    data: Path = typer.Option(
        Path("training/data/conversations/promises.jsonl"),
        "--data",
        exists=True,
        dir_okay=False,
        help="Labelled conversations (JSONL; see training/data/conversations/README.md).",
    ),
    report: Path | None = typer.Option(None, "--report", help="Write the figures as JSON here."),
    show_errors: int = typer.Option(0, "--show-errors", min=0, help="Errors to print."),
) -> None:
    """Precision and recall of the promises the summary reports, refusals reported as
    promises, and conditional promises marked as such."""
    scores = evaluate_commitments(read_conversations(data))
    typer.echo(f"conversations: {scores.conversations}")
    typer.echo(
        f"promises: precision {scores.precision:.3f}  recall {scores.recall:.3f}  "
        f"(tp {scores.true_positives}, fp {scores.false_positives}, fn {scores.false_negatives})"
    )
    typer.echo(
        f"refusals reported as promises: {scores.refusals_reported_as_promises} of "
        f"{scores.refusals}"
    )
    typer.echo(
        f"conditional promises found and marked conditional: {scores.conditional_marked} of "
        f"{scores.conditional}"
    )
    if scores.missed_by_kind:
        missed = ", ".join(f"{k} {n}" for k, n in scores.missed_by_kind.most_common())
        typer.echo(f"missed by type: {missed}")
    for line in scores.errors[:show_errors]:
        typer.echo(f"  {line}")
    if report is not None:
        report.write_text(json.dumps(scores.as_dict(), indent=2) + "\n", encoding="utf-8")
