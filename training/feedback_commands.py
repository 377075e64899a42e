"""`triage retrain`: retrain the intent classifier with agents' corrected intents, judge the
candidate against the active model on the same held-out rows, and promote it only when
the gate (``training/promotion_gate.py``) lets it through."""

from __future__ import annotations

import json
import tempfile
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
    promote: bool = typer.Option(
        False, "--promote", help="Make the candidate active when it passes the gate."
    ),
    out: Path | None = typer.Option(
        None, "--out", file_okay=False, help="Also write the candidate artifact here."
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        file_okay=False,
        help="Folder for report.md and plots (default: <data_dir>/reports/retrain-<version>).",
    ),
    text_column: str = typer.Option("text", "--text-column"),
    label_column: str = typer.Option("label", "--label-column"),
    category_column: str | None = typer.Option(None, "--category-column"),
    extra_data: list[Path] = typer.Option(
        [],
        "--extra-data",
        exists=True,
        dir_okay=False,
        help="More labelled CSVs with the same columns (repeatable); they always train.",
    ),
    holdout: Path | None = typer.Option(
        None,
        "--holdout",
        exists=True,
        dir_okay=False,
        help="Labelled CSV to judge on (same columns); default: --holdout-size of --data.",
    ),
    holdout_negatives: Path | None = typer.Option(
        None,
        "--holdout-negatives",
        exists=True,
        dir_okay=False,
        help="CLINC150-style CSV (text,label) judged as out of scope too (e.g. "
        "clinc150_val.csv), so a candidate that rejects less is caught.",
    ),
    holdout_size: float = typer.Option(
        0.2,
        "--holdout-size",
        min=0.01,
        max=0.9,
        help="Share of each label (and of the corrections) held out to judge both models.",
    ),
    max_intent_drop: float | None = typer.Option(
        None,
        "--max-intent-drop",
        min=0.0,
        max=1.0,
        help="Refuse when any intent's F1 drops more (default: TRIAGE_RETRAIN_MAX_INTENT_DROP).",
    ),
    negatives: Path | None = typer.Option(
        None,
        "--negatives",
        exists=True,
        dir_okay=False,
        help="CLINC150-style CSV of other-domain texts for the rejection thresholds.",
    ),
    negatives_per_intent: int = typer.Option(15, "--negatives-per-intent", min=1),
    max_in_scope_drop: float = typer.Option(
        0.01,
        "--max-in-scope-drop",
        min=0.0,
        max=0.5,
        help="In-scope accuracy the rejection thresholds may cost (as `triage train`).",
    ),
    oos_label: str = typer.Option("out_of_scope", "--oos-label"),
    allow_new_labels: bool = typer.Option(
        False, "--allow-new-labels", help="Accept corrected intents the base data lacks."
    ),
    name: str | None = typer.Option(None, "--name", help="Default: the active model's name."),
    version: str = typer.Option(None, "--version", help="Default: UTC date and time."),
    registry: Path | None = typer.Option(
        None, "--registry", file_okay=False, help="Model registry (default: the service's)."
    ),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Merge corrected intents into the base data, train a candidate, judge it against the
    active model on the same held-out rows, write a side-by-side report, and promote the
    candidate only with --promote and when it passes (exit status 1 when refused)."""
    from models.artifact_manifest import read_manifest
    from models.intent_classifier import IntentClassifier
    from service.settings import Settings
    from training.datasets import (
        LabelledTexts,
        clinc_negatives,
        concatenate,
        read_labelled_csv,
        with_negatives,
    )
    from training.feedback_retrain import (
        JudgingSplit,
        feedback_provenance,
        merge_corrections,
        read_corrections,
        split_for_judging,
    )
    from training.intent_commands import save_trained
    from training.intent_training import TrainingConfig, train_intent_classifier
    from training.promotion_gate import compare_models
    from training.registry_commands import open_registry
    from training.reports import write_comparison_report

    settings = Settings()
    margin = settings.retrain_max_intent_drop if max_intent_drop is None else max_intent_drop
    version = version or datetime.now(UTC).strftime("%Y.%m.%d-%H%M%S")

    try:

        def read(path: Path) -> LabelledTexts:
            return read_labelled_csv(
                path,
                text_column=text_column,
                label_column=label_column,
                category_column=category_column,
            )

        base = read(data)
        corrections = read_corrections(feedback)
        merged, merge = merge_corrections(
            base, corrections, allow_new_labels=allow_new_labels, source=str(feedback)
        )
        typer.echo(f"feedback: {json.dumps(merge.to_json())}")
        independent = (
            read_labelled_csv(holdout, text_column=text_column, label_column=label_column)
            if holdout is not None
            else None
        )
        split = split_for_judging(
            merged, corrections, test_size=holdout_size, seed=seed, holdout=independent
        )
        if holdout_negatives is not None:
            neg = read_labelled_csv(holdout_negatives, text_column="text", label_column="label")
            judged_oos = clinc_negatives(neg, per_intent=1_000_000, seed=seed)
            split = JudgingSplit(
                train=split.train,
                holdout=with_negatives(
                    split.holdout, judged_oos, oos_label=oos_label, source=str(holdout_negatives)
                ),
                from_corrections=split.from_corrections + (False,) * len(judged_oos),
            )
        extras = [read(p) for p in extra_data]
        train_set = concatenate(split.train, *extras) if extras else split.train
        extra: list[str] = []
        if negatives is not None:
            neg = read_labelled_csv(negatives, text_column="text", label_column="label")
            extra = clinc_negatives(neg, per_intent=negatives_per_intent, seed=seed)
        # Inputs are all read and checked before the registry is touched.
        reg = open_registry(registry)
        active_entry = reg.active("intent")
        if active_entry is None:  # pragma: no cover - open_registry adopts one
            raise fail("the model registry has no active intent model")
        encoder = load_encoder()
        active = IntentClassifier.from_artifact(active_entry.path, encoder=encoder)
        typer.echo(
            f"training the candidate on {len(train_set)} rows; judging it and the active "
            f"{active.version} on {len(split.holdout)} held-out rows "
            f"({sum(split.from_corrections)} from corrections)"
        )
        result = train_intent_classifier(
            train_set,
            encoder=encoder,
            negatives=extra,
            oos_label=oos_label,
            config=TrainingConfig(seed=seed, max_in_scope_drop=max_in_scope_drop),
            categories=train_set.categories,
            name=name or read_manifest(active_entry.path).name,
            version=version,
        )
        comparison = compare_models(
            active,
            result.classifier,
            texts=split.holdout.texts,
            gold=split.holdout.labels,
            from_corrections=split.from_corrections,
            max_intent_drop=margin,
        )
        training_data = {
            "path": str(data),
            "extra": [str(p) for p in extra_data],
            "sha256": train_set.sha256,
            "base_sha256": base.sha256,
            "rows": len(train_set),
            "text_column": text_column,
            "label_column": label_column,
            "feedback": feedback_provenance(feedback, merge),
            "negatives": [str(negatives)] if negatives else [],
            "holdout": {
                "path": str(holdout) if holdout else f"{holdout_size} of {data}",
                "rows": len(split.holdout),
                "sha256": split.holdout.sha256,
                "from_corrections": sum(split.from_corrections),
                "negatives": str(holdout_negatives) if holdout_negatives else None,
            },
        }
        with tempfile.TemporaryDirectory(prefix="candidate-") as tmp:
            folder = out if out is not None else Path(tmp) / "candidate"
            save_trained(result, folder, training_data=training_data, oos_label=oos_label)
            candidate_entry = reg.register("intent", folder)
    except TriageError as exc:
        raise fail(str(exc)) from exc

    verdict = comparison.verdict
    report_dir = report or settings.data_dir / "reports" / f"retrain-{candidate_entry.version}"
    path = write_comparison_report(
        report_dir,
        gold=comparison.gold,
        active=comparison.active,
        candidate=comparison.candidate,
        verdict=verdict,
        context={
            "active": f"{active.version} (registry {active_entry.version})",
            "candidate": f"{result.classifier.version} (registry {candidate_entry.version})",
            "base data": f"{data} ({len(base)} rows)",
            "feedback": f"{feedback}: {json.dumps(merge.to_json())}",
            "held out": f"{len(split.holdout)} rows, {sum(split.from_corrections)} of them "
            f"from corrections ({'--holdout ' + str(holdout) if holdout else holdout_size})",
            "margin per intent": f"{margin:.3f}",
            "written at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    for role, scores in (("active   ", comparison.active), ("candidate", comparison.candidate)):
        fixed = scores.corrections_accuracy
        typer.echo(
            f"{role} {scores.version}: accuracy {scores.report.accuracy:.4f}, macro-F1 "
            f"{scores.report.macro_f1:.4f}, ECE {scores.ece:.4f}"
            + (f", held-out corrections right {fixed:.3f}" if fixed is not None else "")
        )
    typer.echo(f"report: {path}")
    typer.echo(f"candidate registered as intent {candidate_entry.version}")
    if not verdict.promote:
        typer.echo("refused; the active model stays:")
        for reason in verdict.reasons:
            typer.echo(f"  - {reason}")
        if promote:
            raise typer.Exit(code=1)
        return
    if not promote:
        typer.echo(
            f"passes the gate; promote with `triage models promote intent "
            f"{candidate_entry.version}` (or rerun with --promote)"
        )
        return
    try:
        reg.promote("intent", candidate_entry.version)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"promoted: intent {candidate_entry.version} is active")
