"""`triage train`, `triage evaluate` and `triage split`: the intent-model commands."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from models.errors import TriageError
from training.command_helpers import CacheOpt, fail, load_encoder

if TYPE_CHECKING:
    from training.intent_training import TrainingResult

DataOpt = typer.Option(..., "--data", exists=True, dir_okay=False, help="Labelled CSV file.")
TextCol = typer.Option("text", "--text-column", help="Column holding the message text.")
LabelCol = typer.Option("label", "--label-column", help="Column holding the label.")
OosOpt = typer.Option("out_of_scope", "--oos-label", help="Label that marks out-of-scope rows.")
NegOpt = typer.Option(
    None,
    "--negatives",
    exists=True,
    dir_okay=False,
    help="CSV of other-domain texts (e.g. CLINC150) added as out-of-scope examples; "
    "intents overlapping e-commerce support are left out.",
)


def train(
    data: Path = DataOpt,
    text_column: str = TextCol,
    label_column: str = LabelCol,
    out: Path = typer.Option(..., "--out", file_okay=False, help="Artifact folder to write."),
    extra_data: list[Path] = typer.Option(
        [],
        "--extra-data",
        exists=True,
        dir_okay=False,
        help="More labelled CSVs with the same columns (repeatable), e.g. our own phrasings.",
    ),
    val: Path | None = typer.Option(
        None, "--val", exists=True, dir_okay=False, help="Validation CSV used for tuning."
    ),
    oos_label: str = OosOpt,
    category_column: str | None = typer.Option(
        None, "--category-column", help="Column with each intent's category."
    ),
    negatives: Path | None = NegOpt,
    negatives_text_column: str = typer.Option("text", "--negatives-text-column"),
    negatives_label_column: str = typer.Option("label", "--negatives-label-column"),
    negatives_per_intent: int = typer.Option(15, "--negatives-per-intent", min=1),
    negatives_as_class: bool = typer.Option(
        False,
        "--negatives-as-class/--negatives-for-calibration",
        help="Train the negatives as an out-of-scope class, or (default) use them only to "
        "fit the rejection thresholds.",
    ),
    oos_data: list[Path] = typer.Option(
        [],
        "--oos-data",
        exists=True,
        dir_okay=False,
        help="CSV (same columns as --data) whose out-of-scope rows are added, all of them, to "
        "the examples the out-of-scope operating point is cross-validated on (e.g. "
        "clinc150_val.csv); its in-scope rows are ignored. Repeatable.",
    ),
    lexical: bool = typer.Option(True, "--lexical/--no-lexical", help="Fuse n-gram features."),
    spelling: bool = typer.Option(
        True,
        "--spelling/--no-spelling",
        help="Store the training words, so the model reads messages with typos corrected "
        "towards them.",
    ),
    distance_scores: bool = typer.Option(
        False,
        "--distance-scores/--no-distance-scores",
        help="Fuse nearest-example and Mahalanobis distances with the probability into one "
        "out-of-scope detector with a cross-validated operating point, or (default) use the "
        "separate probability and similarity thresholds.",
    ),
    adapter: bool = typer.Option(
        False,
        "--adapter/--no-adapter",
        help="Offer the embedding adapter (a one-hidden-layer head, torch at training time "
        "only); it is kept only where it lifts held-out accuracy (off by default: it did not "
        "on BANKING77, CLINC150 or Bitext).",
    ),
    fine_tune_encoder: bool = typer.Option(
        False,
        "--fine-tune-encoder/--no-fine-tune-encoder",
        help="Offer a fine-tuned copy of the encoder with its own head (torch at training "
        "time, ONNX in the artifact); kept only where it lifts held-out accuracy. Costs a fit "
        "per fold (BANKING77: over an hour on 2 cores) and a second encoder pass per "
        "message when served.",
    ),
    fine_tune_epochs: int = typer.Option(
        5, "--fine-tune-epochs", min=1, max=50, help="Epochs of each fine-tuning fit."
    ),
    fusion_rule: str = typer.Option(
        "log_loss",
        "--fusion-rule",
        help="How the lexical fusion weight is chosen on held-out predictions: log_loss "
        "(lowest log-loss) or accuracy_tolerance (the rule the shipped default model was "
        "built with: the smallest weight within 0.25 point of the best accuracy).",
    ),
    cache: Path | None = CacheOpt,
    max_in_scope_drop: float = typer.Option(
        0.01,
        "--max-in-scope-drop",
        min=0.0,
        max=0.5,
        help="In-scope accuracy the rejection thresholds may cost on held-out predictions.",
    ),
    name: str = typer.Option("intent", "--name", help="Artifact name in the manifest."),
    version: str = typer.Option(
        None, "--version", help="Artifact version (default: UTC date and time)."
    ),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train an intent classifier and write its artifact folder."""
    from training.datasets import (
        clinc_negatives,
        concatenate,
        read_labelled_csv,
        with_negatives,
    )
    from training.encoder_fine_tuning import FineTuneConfig
    from training.intent_training import (
        ADAPTER_GRID,
        FUSION_RULES,
        TrainingConfig,
        train_intent_classifier,
    )
    from training.urgency_embedding_cache import EmbeddingCache

    if fusion_rule not in FUSION_RULES:
        raise fail(f"--fusion-rule must be one of {', '.join(FUSION_RULES)}, not {fusion_rule!r}")
    try:
        train_set = concatenate(
            *(
                read_labelled_csv(
                    path,
                    text_column=text_column,
                    label_column=label_column,
                    category_column=category_column,
                )
                for path in [data, *extra_data]
            )
        )
        extra: list[str] = []
        sources: list[str] = []
        if negatives is not None:
            neg = read_labelled_csv(
                negatives, text_column=negatives_text_column, label_column=negatives_label_column
            )
            extra += clinc_negatives(neg, per_intent=negatives_per_intent, seed=seed)
            sources.append(f"{negatives}:{neg.sha256}")
        for path in oos_data:
            rows = read_labelled_csv(path, text_column=text_column, label_column=label_column)
            found = [
                t for t, label in zip(rows.texts, rows.labels, strict=True) if label == oos_label
            ]
            if not found:
                raise fail(f"{path}: no rows labelled {oos_label!r}")
            extra += found
            sources.append(f"{path}[{oos_label}]:{rows.sha256}")
        if extra and negatives_as_class:
            train_set = with_negatives(
                train_set, extra, oos_label=oos_label, source=";".join(sources)
            )
        val_set = (
            read_labelled_csv(val, text_column=text_column, label_column=label_column)
            if val
            else None
        )
        typer.echo(
            f"training on {len(train_set)} rows, {len(set(train_set.labels))} labels"
            + (f"; {len(extra)} out-of-scope negatives" if extra else "")
        )
        version = version or datetime.now(UTC).strftime("%Y.%m.%d-%H%M%S")
        result = train_intent_classifier(
            train_set,
            encoder=EmbeddingCache(load_encoder(), cache) if cache else load_encoder(),
            val=val_set,
            negatives=[] if negatives_as_class else extra,
            oos_label=oos_label,
            config=TrainingConfig(
                lexical=lexical,
                seed=seed,
                max_in_scope_drop=max_in_scope_drop,
                distance_scores=distance_scores,
                spelling=spelling,
                adapter_grid=ADAPTER_GRID if adapter else (),
                fine_tune=FineTuneConfig(epochs=fine_tune_epochs, seed=seed)
                if fine_tune_encoder
                else None,
                fusion_rule=FUSION_RULES[fusion_rule],
            ),
            categories=train_set.categories,
            name=name,
            version=version,
        )
    except TriageError as exc:
        raise fail(str(exc)) from exc

    training_data = {
        "path": str(data),
        "extra": [str(p) for p in extra_data],
        "sha256": train_set.sha256,
        "rows": len(train_set),
        "text_column": text_column,
        "label_column": label_column,
        "negatives": sources,
        "oos_data": [str(p) for p in oos_data],
        "validation": str(val) if val else None,
    }
    heldout, metrics = save_trained(result, out, training_data=training_data, oos_label=oos_label)
    typer.echo(f"held-out metrics ({result.calibration_source}):")
    typer.echo(json.dumps(heldout, indent=2))
    heads = result.classifier.heads
    rejection = (
        f"scope detector threshold {heads.detector.threshold}"
        if heads.detector is not None
        else f"out-of-scope threshold {heads.oos_threshold}, similarity threshold "
        f"{heads.similarity_threshold}"
    )
    typer.echo(
        f"fusion weight {heads.fusion_weight}, vote weight {heads.vote_weight}, adapter "
        f"weight {heads.adapter_weight}, tuned-encoder weight {heads.tuned_weight}, temperature "
        f"{heads.temperature:.3f}, {rejection}, ECE {metrics['heldout_ece']}"
    )
    if "cv_oos_recall" in metrics:
        typer.echo(
            f"out-of-scope operating point, {metrics['cv_folds']}-fold cross-validated: in-scope "
            f"accuracy {metrics['cv_in_scope_accuracy']} (95% CI "
            f"{metrics['cv_in_scope_accuracy_ci95']}, n={metrics['cv_in_scope_n']}), "
            f"out-of-scope recall {metrics['cv_oos_recall']} (95% CI "
            f"{metrics['cv_oos_recall_ci95']}, n={metrics['cv_oos_n']})"
        )
    typer.echo(f"wrote {out}")


def save_trained(
    result: TrainingResult, out: Path, *, training_data: dict[str, Any], oos_label: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write the artifact, its manifest carrying the held-out figures of training; returns
    those figures and the manifest's metrics."""
    from training.evaluation import evaluate_labels

    heldout = evaluate_labels(result.heldout_true, result.heldout_pred, oos_label=oos_label)
    summary = heldout.summary()
    metrics = {**result.metrics, **{f"heldout_{k}": v for k, v in summary.items()}}
    result.classifier.save(out, training_data=training_data, metrics=metrics, params=result.params)
    return summary, metrics


def evaluate(
    data: Path = DataOpt,
    model: Path | None = typer.Option(
        None, "--model", file_okay=False, help="Artifact folder (default: the active model)."
    ),
    text_column: str = TextCol,
    label_column: str = LabelCol,
    oos_label: str = OosOpt,
    negatives: Path | None = NegOpt,
    negatives_text_column: str = typer.Option("text", "--negatives-text-column"),
    negatives_label_column: str = typer.Option("label", "--negatives-label-column"),
    negatives_per_intent: int = typer.Option(
        1_000_000, "--negatives-per-intent", min=1, help="Cap per negative intent (default: all)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    report: Path | None = typer.Option(
        None, "--report", file_okay=False, help="Write report.md and a confusion matrix here."
    ),
) -> None:
    """Evaluate an intent classifier on a labelled CSV."""
    from models.intent_classifier import IntentClassifier
    from service.settings import Settings
    from training.datasets import clinc_negatives, read_labelled_csv, with_negatives
    from training.evaluation import evaluate_labels
    from training.intent_training import encode_texts

    try:
        folder = model or Settings().intent_model_dir
        encoder = load_encoder()
        classifier = IntentClassifier.from_artifact(folder, encoder=encoder)
        dataset = read_labelled_csv(data, text_column=text_column, label_column=label_column)
        if negatives is not None:
            neg = read_labelled_csv(
                negatives, text_column=negatives_text_column, label_column=negatives_label_column
            )
            extra = clinc_negatives(neg, per_intent=negatives_per_intent)
            dataset = with_negatives(dataset, extra, oos_label=oos_label, source=str(negatives))
    except TriageError as exc:
        raise fail(str(exc)) from exc
    embeddings = encode_texts(encoder, dataset.texts, desc="encoding evaluation data")
    decisions = classifier.predict_read(dataset.texts, embeddings.astype("float32"))
    predicted = [d.label for d in decisions]
    result = evaluate_labels(dataset.labels, predicted, oos_label=oos_label)
    if report is not None:
        from training.reports import write_markdown_report

        path = write_markdown_report(
            result,
            report,
            title=f"Intent evaluation: {classifier.version}",
            context={
                "model": str(folder),
                "data": f"{data} ({len(dataset)} rows)",
                "negatives": str(negatives) if negatives else "none",
                "evaluated at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        if not as_json:
            typer.echo(f"wrote {path}")
    if as_json:
        typer.echo(json.dumps(result.summary()))
        return
    typer.echo(f"model {classifier.version} on {data} ({result.n} rows)")
    for key, value in result.summary().items():
        typer.echo(f"  {key:<18} {value}")
    typer.echo(f"  {'label':<28} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}")
    for c in result.per_class:
        typer.echo(f"  {c.label:<28} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f} {c.support:5d}")


def split(
    data: Path = DataOpt,
    label_column: str = LabelCol,
    out_dir: Path = typer.Option(..., "--out-dir", file_okay=False),
    test_size: float = typer.Option(0.2, "--test-size", min=0.01, max=0.99),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Write a stratified train.csv / test.csv split of a labelled CSV (for holdout figures)."""
    with data.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        if label_column not in header:
            raise fail(f"{data}: no column {label_column!r}")
        rows = list(reader)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_label[row[label_column]].append(i)
    rng = random.Random(seed)
    test: set[int] = set()
    for indices in by_label.values():
        rng.shuffle(indices)
        test.update(indices[: max(1, round(len(indices) * test_size))])
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, keep in (("train.csv", lambda i: i not in test), ("test.csv", lambda i: i in test)):
        with (out_dir / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=header)
            writer.writeheader()
            writer.writerows(row for i, row in enumerate(rows) if keep(i))
    typer.echo(f"wrote {out_dir}/train.csv ({len(rows) - len(test)}) and test.csv ({len(test)})")
