"""`triage entities evaluate`: exact-span scores of the entity extractor on Bitext."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from training.entity_evaluation import evaluate_spans, read_bitext_spans

app = typer.Typer(
    help="Entity extraction (order, invoice, tracking numbers...).", no_args_is_help=True
)


@app.command("evaluate")
def evaluate(
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="Bitext customer-support CSV."
    ),
    report: Path | None = typer.Option(None, "--report", help="Write the figures as JSON here."),
    show_errors: int = typer.Option(10, "--show-errors", min=0, help="Errors to print."),
) -> None:
    """Exact-span precision, recall and F1 for order_id and invoice_id."""
    result = evaluate_spans(read_bitext_spans(data))
    typer.echo(f"rows: {result.rows}")
    typer.echo(
        f"{'type':<12} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>10} {'recall':>8} {'f1':>8}"
    )
    for s in result.scores.values():
        typer.echo(
            f"{s.entity_type:<12} {s.tp:>5} {s.fp:>5} {s.fn:>5} "
            f"{s.precision:>10.4f} {s.recall:>8.4f} {s.f1:>8.4f}"
        )
    for err in result.errors[:show_errors]:
        a, b = err.span
        typer.echo(f"  {err.kind:<8} {err.entity_type:<10} {err.text[a:b]!r:<20} in {err.text!r}")
    if report is not None:
        figures = {
            t: {
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
            }
            for t, s in result.scores.items()
        }
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"rows": result.rows, "scores": figures}, indent=2) + "\n")
        typer.echo(f"report written to {report}")
