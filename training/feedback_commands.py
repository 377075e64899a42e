"""`triage retrain`: retrain the intent classifier with agents' corrected intents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from models.errors import TriageError
from training.command_helpers import fail, load_encoder


def retrain(
    feedback: Path = typer.Option(
        ..., "--feedback", exists=True, dir_okay=False, help="JSONL from /v1/feedback/export."
    ),
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="Base labelled CSV."
    ),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Artifact folder to write."),
    text_column: str = typer.Option("text", "--text-column"),
    label_column: str = typer.Option("label", "--label-column"),
    category_column: str | None = typer.Option(None, "--category-column"),
    negatives: Path | None = typer.Option(
        None,
        "--negatives",
        exists=True,
        dir_okay=False,
        help="CLINC150-style CSV of other-domain texts for the rejection thresholds.",
    ),
    negatives_per_intent: int = typer.Option(15, "--negatives-per-intent", min=1),
    oos_label: str = typer.Option("out_of_scope", "--oos-label"),
    allow_new_labels: bool = typer.Option(
        False, "--allow-new-labels", help="Accept corrected intents the base data lacks."
    ),
    name: str = typer.Option("intent", "--name"),
    version: str = typer.Option(None, "--version", help="Default: UTC date and time."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Merge corrected intents from feedback into the base data and retrain."""
    from training.datasets import clinc_negatives, read_labelled_csv
    from training.feedback_retrain import (
        feedback_provenance,
        merge_corrections,
        read_corrections,
    )
    from training.intent_commands import save_trained
    from training.intent_training import TrainingConfig, train_intent_classifier

    try:
        base = read_labelled_csv(
            data,
            text_column=text_column,
            label_column=label_column,
            category_column=category_column,
        )
        corrections = read_corrections(feedback)
        merged, report = merge_corrections(
            base, corrections, allow_new_labels=allow_new_labels, source=str(feedback)
        )
        typer.echo(f"feedback: {json.dumps(report.to_json())}")
        extra: list[str] = []
        if negatives is not None:
            neg = read_labelled_csv(negatives, text_column="text", label_column="label")
            extra = clinc_negatives(neg, per_intent=negatives_per_intent, seed=seed)
        version = version or datetime.now(UTC).strftime("%Y.%m.%d-%H%M%S")
        result = train_intent_classifier(
            merged,
            encoder=load_encoder(),
            negatives=extra,
            oos_label=oos_label,
            config=TrainingConfig(seed=seed),
            categories=merged.categories,
            name=name,
            version=version,
        )
    except TriageError as exc:
        raise fail(str(exc)) from exc
    training_data = {
        "path": str(data),
        "sha256": merged.sha256,
        "base_sha256": base.sha256,
        "rows": len(merged),
        "text_column": text_column,
        "label_column": label_column,
        "feedback": feedback_provenance(feedback, report),
        "negatives": [str(negatives)] if negatives else [],
    }
    save_trained(result, out, training_data=training_data, oos_label=oos_label)
    typer.echo(f"retrained on {len(merged)} rows; wrote {out}")
