"""`triage urgency train` and `triage urgency evaluate`: the urgency model's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from training.command_helpers import load_encoder
from training.urgency_training import DEFAULT_DATA, UrgencyExample, read_examples

app = typer.Typer(
    help="Urgency model: train on the urgency data set, evaluate on its test split.",
    no_args_is_help=True,
)

DataOpt = typer.Option(
    DEFAULT_DATA,
    "--data",
    exists=True,
    dir_okay=False,
    help="Urgency JSONL, or a .csv written by `triage tickets import` (text, urgency columns; "
    "a fixed 20% per level becomes the test split).",
)
IntentOpt = typer.Option(
    None,
    "--intent-model",
    exists=True,
    file_okay=False,
    help="Intent artifact whose category probabilities feed urgency (default: the service's).",
)


def _read(data: Path) -> list[UrgencyExample]:
    """Urgency examples from the JSONL data set or an imported-tickets CSV."""
    if data.suffix.lower() == ".csv":
        from models.errors import TriageError
        from training.ticket_import import urgency_examples_from_csv

        try:
            return urgency_examples_from_csv(data)
        except TriageError as exc:
            raise typer.BadParameter(str(exc), param_hint="--data") from exc
    return read_examples(data)


def _intent(folder: Path | None, encoder):  # type: ignore[no-untyped-def]
    from models.intent_classifier import IntentClassifier
    from service.settings import Settings

    return IntentClassifier.from_artifact(folder or Settings().intent_model_dir, encoder=encoder)


def _print_validation(validation: dict[str, Any]) -> None:
    typer.echo(f"cross-validation ({validation['method']}, n={validation['n']}):")
    for variant in ("without_intent", "with_intent"):
        if variant not in validation:
            continue
        v = validation[variant]
        fresh = v["fresh_folds"]
        typer.echo(
            f"  {variant:<15} C={v['C']} signal_scale={v['signal_scale']} "
            f"intent_scale={v['intent_scale']} threshold={v['critical_threshold']}: "
            f"macro-F1={v['macro_f1']:.4f} critical recall={v['critical_recall']:.4f} "
            f"cost={v['cost']:g} | fresh folds: macro-F1={fresh['macro_f1']:.4f} "
            f"critical recall={fresh['critical_recall']:.4f} cost={fresh['cost']:g}"
        )
    typer.echo(f"  intent features kept: {validation['intent_features']}")


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
    intent_model: Path | None = IntentOpt,
    use_intent: bool = typer.Option(
        True, "--intent/--no-intent", help="Try intent-category features (kept if CV agrees)."
    ),
) -> None:
    """Fit on train+dev (cross-validated choices), report on test, write the artifact."""
    from models.artifact_manifest import sha256_file
    from models.message_analyzer import MessageAnalyzer
    from training.urgency_training import prepare, score_split, train_urgency

    examples = _read(data)
    encoder = load_encoder()
    analyzer = MessageAnalyzer()
    intent = _intent(intent_model, encoder) if use_intent else None
    typer.echo(f"preparing {len(examples)} messages (cleanup, signals, embeddings, intent)...")
    fit = prepare(
        [e for e in examples if e.split in {"train", "dev"}],
        encoder=encoder,
        analyzer=analyzer,
        intent=intent,
    )
    typer.echo("cross-validating C, signal and intent weights, critical threshold (minutes)...")
    result = train_urgency(
        fit,
        encoder=encoder,
        version=version,
        name=name,
        intent_model=intent.version if intent is not None else None,
    )
    uses_intent = result.classifier.uses_intent
    test = prepare(
        [e for e in examples if e.split == "test"],
        encoder=encoder,
        analyzer=analyzer,
        intent=intent if uses_intent else None,
    )
    test_metrics = score_split(result.classifier, test).to_json()
    counts = {s: sum(1 for e in examples if e.split == s) for s in ("train", "dev", "test")}
    params: dict[str, Any] = {"C": result.c, "class_weight": "balanced"}
    if uses_intent and intent is not None and intent.manifest is not None:
        # Provenance: which intent model produced the training features.
        params["intent_model_created_at"] = intent.manifest.created_at
    result.classifier.save(
        out,
        training_data={"file": data.name, "sha256": sha256_file(data), "rows": counts},
        metrics={"validation": result.validation, "test": test_metrics},
        params=params,
    )
    typer.echo(
        f"C={result.c} signal_scale={result.signal_scale} intent_scale={result.intent_scale} "
        f"critical_threshold={result.critical_threshold}"
    )
    _print_validation(result.validation)
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
    intent_model: Path | None = IntentOpt,
) -> None:
    """Score a trained artifact on one split of the data set."""
    from models.message_analyzer import MessageAnalyzer
    from models.urgency_classifier import UrgencyClassifier
    from training.urgency_training import prepare, score_split

    encoder = load_encoder()
    classifier = UrgencyClassifier.from_artifact(model, encoder=encoder)
    rows = [e for e in _read(data) if e.split == split]
    if not rows:
        raise typer.BadParameter(f"no rows in split {split!r}", param_hint="--split")
    intent = _intent(intent_model, encoder) if classifier.uses_intent else None
    if intent is not None:
        classifier.check_intent_model(intent)
        typer.echo(
            f"intent features from {intent.version} (trained with {classifier.intent_model})"
        )
    prepared = prepare(rows, encoder=encoder, analyzer=MessageAnalyzer(), intent=intent)
    metrics = score_split(classifier, prepared).to_json()
    _print_metrics(f"{classifier.version} on {split}", metrics)
    if show_errors:
        decisions = classifier.assess(
            prepared.embeddings, prepared.signals, intents=prepared.intents
        )
        for example, decision in zip(prepared.examples, decisions, strict=True):
            if example.level != decision.level:
                snippet = " ".join(example.text.split())[:90]
                typer.echo(f"  {example.level:>8} -> {decision.level:<8} {snippet!r}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {report}")
