"""`triage urgency train` and `triage urgency evaluate`: the urgency model's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from training.urgency_training import DEFAULT_DATA

app = typer.Typer(
    help="Urgency model: train on the urgency data set, evaluate on its test split.",
    no_args_is_help=True,
)

DataOpt = typer.Option(DEFAULT_DATA, "--data", exists=True, dir_okay=False, help="Urgency JSONL.")


def _encoder():  # type: ignore[no-untyped-def]
    from models.sentence_encoder import SentenceTransformerEncoder
    from service.settings import Settings

    settings = Settings()
    return SentenceTransformerEncoder(settings.encoder_path, name=settings.encoder_name).load()


def _print_metrics(title: str, metrics: dict[str, Any]) -> None:
    typer.echo(
        f"{title}: n={metrics['n']} macro-F1={metrics['macro_f1']:.4f} "
        f"critical recall={metrics['critical_recall']:.4f} accuracy={metrics['accuracy']:.4f} "
        f"adversarial={metrics['adversarial']}"
    )
    typer.echo(f"  {'':<9}" + "".join(f"{lv:>9}" for lv in metrics["per_level"]))
    for name in ("precision", "recall", "f1"):
        typer.echo(
            f"  {name:<9}" + "".join(f"{v[name]:>9.3f}" for v in metrics["per_level"].values())
        )
    cm = metrics["confusion_matrix"]
    typer.echo("  confusion matrix (rows: true, columns: predicted)")
    typer.echo(f"  {'':<9}" + "".join(f"{lv:>9}" for lv in cm["labels"]))
    for lv, row in zip(cm["labels"], cm["rows_true_cols_pred"], strict=True):
        typer.echo(f"  {lv:<9}" + "".join(f"{v:>9}" for v in row))


@app.command("train")
def train(
    data: Path = DataOpt,
    out: Path = typer.Option(..., "--out", file_okay=False, help="Artifact folder to write."),
    version: str = typer.Option("1", "--version", help="Version written to the manifest."),
    name: str = typer.Option("urgency-en", "--name", help="Model name in the manifest."),
) -> None:
    """Fit on train+dev (cross-validated choices), report on test, write the artifact."""
    from models.message_analyzer import MessageAnalyzer
    from training.urgency_training import (
        data_hash,
        prepare,
        read_examples,
        score_split,
        train_urgency,
    )

    examples = read_examples(data)
    encoder = _encoder()
    analyzer = MessageAnalyzer()
    typer.echo(f"preparing {len(examples)} messages (cleanup, signals, embeddings)...")
    fit = prepare(
        [e for e in examples if e.split in {"train", "dev"}], encoder=encoder, analyzer=analyzer
    )
    test = prepare([e for e in examples if e.split == "test"], encoder=encoder, analyzer=analyzer)
    typer.echo("cross-validating C, signal weight and critical threshold (a few minutes)...")
    result = train_urgency(fit, encoder=encoder, version=version, name=name)
    test_metrics = score_split(result.classifier, test).to_json()
    counts = {s: sum(1 for e in examples if e.split == s) for s in ("train", "dev", "test")}
    result.classifier.save(
        out,
        training_data={"file": data.name, "sha256": data_hash(data), "rows": counts},
        metrics={"validation": result.validation, "test": test_metrics},
        params={"C": result.c, "class_weight": "balanced"},
    )
    typer.echo(
        f"C={result.c} signal_scale={result.signal_scale} "
        f"critical_threshold={result.critical_threshold}"
    )
    typer.echo(f"validation: {json.dumps(result.validation)}")
    _print_metrics("test", test_metrics)
    typer.echo(f"artifact written to {out}")


@app.command("evaluate")
def evaluate(
    model: Path = typer.Option(
        ..., "--model", exists=True, file_okay=False, help="Artifact folder."
    ),
    data: Path = DataOpt,
    split: str = typer.Option("test", "--split", help="Which split to score."),
    report: Path | None = typer.Option(None, "--report", help="Write the figures as JSON here."),
    show_errors: bool = typer.Option(True, "--show-errors/--no-errors"),
) -> None:
    """Score a trained artifact on one split of the data set."""
    from models.message_analyzer import MessageAnalyzer
    from models.urgency_classifier import UrgencyClassifier
    from training.urgency_training import prepare, read_examples, score_split

    encoder = _encoder()
    classifier = UrgencyClassifier.from_artifact(model, encoder=encoder)
    rows = [e for e in read_examples(data) if e.split == split]
    if not rows:
        raise typer.BadParameter(f"no rows in split {split!r}", param_hint="--split")
    prepared = prepare(rows, encoder=encoder, analyzer=MessageAnalyzer())
    metrics = score_split(classifier, prepared).to_json()
    _print_metrics(f"{classifier.version} on {split}", metrics)
    if show_errors:
        decisions = classifier.assess(prepared.embeddings, prepared.signals)
        for example, decision in zip(prepared.examples, decisions, strict=True):
            if example.level != decision.level:
                snippet = " ".join(example.text.split())[:90]
                typer.echo(f"  {example.level:>8} -> {decision.level:<8} {snippet!r}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {report}")
