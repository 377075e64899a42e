"""`triage urgency train` and `triage urgency evaluate`: the urgency model's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from training.command_helpers import CacheOpt, load_encoder
from training.urgency_training import DEFAULT_DATA, VARIED_DATA, UrgencyExample, read_examples

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


SHARED_DATA = Path("../shared/data")
ExtraOpt = typer.Option(
    [VARIED_DATA],
    "--extra",
    exists=True,
    dir_okay=False,
    help="Further training-only urgency JSONL files (all rows train); repeatable.",
)
BitextOpt = typer.Option(
    SHARED_DATA / "bitext_customer_support.csv",
    "--bitext",
    dir_okay=False,
    help="Bitext CSV: train side = routine negatives for fitting and calibration.",
)
ClincTrainOpt = typer.Option(
    SHARED_DATA / "clinc150_train.csv",
    "--clinc-train",
    dir_okay=False,
    help="CLINC150 train CSV: routine negatives and report_fraud emergencies.",
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
    if "lexical" in validation:
        lex = validation["lexical"]
        scores = " ".join(f"{k}={v}" for k, v in lex.items() if k not in {"judged_by", "chosen"})
        typer.echo(
            f"  level-head n-gram block ({lex['judged_by']}): {scores}; kept: {lex['chosen']}"
        )
    if "level_bias" in validation:
        b = validation["level_bias"]
        typer.echo(
            f"  level bias ({b['judged_by']}): none={b['none']} cross-fitted={b['cross_fitted']} "
            f"bias={b['bias']}; kept: {b['kept']}"
        )


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
        False, "--intent/--no-intent", help="Try intent-category features (kept if CV agrees)."
    ),
    extra: list[Path] = ExtraOpt,
    bitext: Path = BitextOpt,
    clinc_train: Path = ClincTrainOpt,
    cache: Path | None = CacheOpt,
) -> None:
    """Fit on train+dev (cross-validated choices), report on test, write the artifact.

    The level head (low/normal/high) learns from our messages; the emergency detector
    (critical) also from routine public messages, and its threshold is calibrated on
    routine train-side messages it never fitted (see training/urgency_emergency_training.py).
    """
    from models.artifact_manifest import sha256_file
    from models.message_analyzer import MessageAnalyzer
    from training.urgency_embedding_cache import EmbeddingCache
    from training.urgency_emergency_training import (
        BITEXT_FIT_PER_INTENT,
        CLINC_FIT_PER_INTENT,
        build_data,
        split_public,
        train_emergency,
    )
    from training.urgency_public_sets import read_bitext, read_clinc
    from training.urgency_training import LEXICAL_WEIGHTS, prepare, score_split, train_urgency

    for path, opt in ((bitext, "--bitext"), (clinc_train, "--clinc-train")):
        if not path.is_file():
            raise typer.BadParameter(f"{path} does not exist", param_hint=opt)
    extra_rows = [e for path in extra for e in read_examples(path, default_split="train")]
    examples = _read(data) + extra_rows
    encoder = EmbeddingCache(load_encoder(), cache)
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
        grids=((4.0, 8.0), (1.0,), (0.25, 0.5)),
        lexical_weights=LEXICAL_WEIGHTS,
        level_bias=True,
    )
    typer.echo("fitting and calibrating the emergency detector (minutes)...")
    clinc = read_clinc(clinc_train)
    routine_clinc = [m for m in clinc if m.situation is None]
    bitext_train = read_bitext(bitext, side="train")
    fit_clinc, calib_clinc = split_public(
        routine_clinc, per_label={m.label: CLINC_FIT_PER_INTENT for m in routine_clinc}
    )
    fit_bitext, calib_bitext = split_public(
        bitext_train, per_label={m.label: BITEXT_FIT_PER_INTENT for m in bitext_train}
    )
    emergencies = [m for m in clinc if m.situation is not None]
    emergency_data = build_data(
        fit.examples,
        fit_clinc + fit_bitext + emergencies,
        encoder=encoder,
        analyzer=analyzer,
    )
    routine_texts = [analyzer.focus_text(m.text) for m in calib_clinc + calib_bitext]
    routine = encoder.encode(routine_texts)
    emergency = train_emergency(emergency_data, routine, routine_texts, encoder=encoder)
    result.classifier.emergency = emergency.detector
    emergency_figures = emergency.to_json()
    emergency_figures["rows"] = {
        "ours": len(fit.examples),
        "clinc_routine_fit": len(fit_clinc),
        "bitext_train_side_fit": len(fit_bitext),
        "clinc_report_fraud": len(emergencies),
        "calibration_routine": len(routine),
    }
    uses_intent = result.classifier.uses_intent
    test = prepare(
        [e for e in examples if e.split == "test"],
        encoder=encoder,
        analyzer=analyzer,
        intent=intent if uses_intent else None,
    )
    test_metrics = score_split(result.classifier, test).to_json()
    counts = {s: sum(1 for e in examples if e.split == s) for s in ("train", "dev", "test")}
    files = [data, *extra]
    params: dict[str, Any] = {"C": result.c, "class_weight": "balanced"}
    if uses_intent and intent is not None and intent.manifest is not None:
        # Provenance: which intent model produced the training features.
        params["intent_model_created_at"] = intent.manifest.created_at
    result.classifier.save(
        out,
        training_data={
            "file": data.name,
            "sha256": sha256_file(data),
            "rows": counts,
            "files": {p.name: sha256_file(p) for p in files},
            "public": {p.name: sha256_file(p) for p in (bitext, clinc_train)},
        },
        metrics={
            "validation": result.validation,
            "emergency": emergency_figures,
            "test": test_metrics,
        },
        params=params,
        emergency_descriptions=emergency.descriptions,
    )
    typer.echo(
        f"C={result.c} signal_scale={result.signal_scale} intent_scale={result.intent_scale} "
        f"critical_threshold={result.critical_threshold}"
    )
    _print_validation(result.validation)
    chosen = emergency_figures["chosen"]
    typer.echo(
        f"emergency detector ({emergency_figures['trade_off']}): C={chosen['C']} "
        f"similarity_scale={chosen['similarity_scale']} threshold={chosen['threshold']}: "
        f"out-of-fold recall={chosen['emergency_recall']:.4f} false alarms: "
        f"{chosen['false_alarms_per_1000_routine']:.2f}/1000 routine, "
        f"{chosen['false_alarm_share_ours']:.4f} of our non-critical messages"
    )
    _print_metrics("test", test_metrics)
    typer.echo(f"artifact written to {out}")


def _critical_share(
    classifier: Any, texts: list[str], *, encoder: Any, analyzer: Any
) -> list[bool]:
    """Whether each public text is triaged critical (text only, as the service reads it)."""
    from training.urgency_training import UrgencyExample, prepare

    rows = [
        UrgencyExample(str(i), t, "normal", "eval", "public", 0, False) for i, t in enumerate(texts)
    ]
    prepared = prepare(rows, encoder=encoder, analyzer=analyzer)
    decisions = classifier.assess(prepared.embeddings, prepared.signals, texts=prepared.texts)
    return [d.level == "critical" for d in decisions]


def _public_figures(
    classifier: Any, *, bitext: Path, clinc_val: Path, encoder: Any, analyzer: Any
) -> dict[str, Any]:
    """Critical share on Bitext (all rows, held-out side) and CLINC150 validation in-scope."""
    from collections import Counter

    from training.urgency_public_sets import (
        CLINC_EMERGENCY_INTENTS,
        bitext_side,
        read_bitext,
        read_clinc,
    )

    out: dict[str, Any] = {}
    rows = read_bitext(bitext)
    flags = _critical_share(classifier, [m.text for m in rows], encoder=encoder, analyzer=analyzer)
    held = [f for f, m in zip(flags, rows, strict=True) if bitext_side(m.text) == "held_out"]
    by_intent = Counter(m.label for f, m in zip(flags, rows, strict=True) if f)
    out["bitext"] = {
        "n": len(rows),
        "critical": sum(flags),
        "critical_share": round(sum(flags) / len(rows), 4),
        "held_out_n": len(held),
        "held_out_critical": sum(held),
        "held_out_critical_share": round(sum(held) / max(len(held), 1), 4),
        "critical_by_intent": dict(by_intent.most_common()),
    }
    clinc = read_clinc(clinc_val)
    flags = _critical_share(classifier, [m.text for m in clinc], encoder=encoder, analyzer=analyzer)
    other = [f for f, m in zip(flags, clinc, strict=True) if m.situation is None]
    recall = {
        intent: round(
            float(
                sum(f for f, m in zip(flags, clinc, strict=True) if m.label == intent)
                / max(sum(1 for m in clinc if m.label == intent), 1)
            ),
            4,
        )
        for intent in CLINC_EMERGENCY_INTENTS
    }
    wrong = Counter(m.label for f, m in zip(flags, clinc, strict=True) if f and m.situation is None)
    out["clinc_val"] = {
        "emergency_intents": sorted(CLINC_EMERGENCY_INTENTS),
        "emergency_recall": recall,
        "other_n": len(other),
        "other_critical": sum(other),
        "other_critical_share": round(sum(other) / max(len(other), 1), 4),
        "other_critical_by_intent": dict(wrong.most_common()),
    }
    return out


def _print_public(figures: dict[str, Any]) -> None:
    b, c = figures["bitext"], figures["clinc_val"]
    typer.echo(
        f"Bitext, all rows: critical {b['critical']}/{b['n']} = {100 * b['critical_share']:.2f}% "
        f"(held-out side never read in training: {b['held_out_critical']}/{b['held_out_n']} = "
        f"{100 * b['held_out_critical_share']:.2f}%)"
    )
    if b["critical_by_intent"]:
        typer.echo(f"  critical by intent: {b['critical_by_intent']}")
    typer.echo(
        f"CLINC150 validation in-scope: emergency intents {c['emergency_intents']} recall "
        f"{c['emergency_recall']}; all other intents critical {c['other_critical']}/"
        f"{c['other_n']} = {100 * c['other_critical_share']:.2f}%"
    )
    if c["other_critical_by_intent"]:
        typer.echo(f"  critical by intent: {c['other_critical_by_intent']}")


@app.command("evaluate")
def evaluate(
    model: Path = typer.Option(
        ..., "--model", exists=True, file_okay=False, help="Artifact folder."
    ),
    data: Path = DataOpt,
    split: str = typer.Option("test", "--split", help="Which split to score."),
    test_file: Path | None = typer.Option(
        None,
        "--test-file",
        exists=True,
        dir_okay=False,
        help="A separately written test JSONL (text, level, situation?): scored instead of "
        "--data/--split.",
    ),
    public: bool = typer.Option(
        True, "--public/--no-public", help="Also measure critical share on Bitext and CLINC150."
    ),
    bitext: Path = BitextOpt,
    clinc_val: Path = typer.Option(
        SHARED_DATA / "clinc150_val.csv", "--clinc-val", dir_okay=False, help="CLINC150 val CSV."
    ),
    cache: Path | None = CacheOpt,
    report: Path | None = typer.Option(None, "--report", help="Write the figures as JSON here."),
    show_errors: bool | None = typer.Option(
        None,
        "--errors/--no-errors",
        help="Print each misjudged message. Default: on for --data/--split, off for "
        "--test-file (held-out rows are never shown unless asked for).",
    ),
    intent_model: Path | None = IntentOpt,
) -> None:
    """Score an artifact: test split with confusion matrix, Bitext and CLINC150 critical share."""
    from models.message_analyzer import MessageAnalyzer
    from models.urgency_classifier import UrgencyClassifier
    from training.urgency_embedding_cache import EmbeddingCache
    from training.urgency_training import prepare, score_split

    encoder = EmbeddingCache(load_encoder(), cache)
    analyzer = MessageAnalyzer()
    classifier = UrgencyClassifier.from_artifact(model, encoder=encoder)
    if test_file is not None:
        try:
            rows = read_examples(test_file, default_split="test")
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--test-file") from exc
        split, source = "test", test_file.name
    else:
        rows = [e for e in _read(data) if e.split == split]
        source = f"{data.name} split {split}"
    if not rows:
        raise typer.BadParameter(f"no rows in split {split!r}", param_hint="--split")
    intent = _intent(intent_model, encoder) if classifier.uses_intent else None
    if intent is not None:
        classifier.check_intent_model(intent)
        typer.echo(
            f"intent features from {intent.version} (trained with {classifier.intent_model})"
        )
    prepared = prepare(rows, encoder=encoder, analyzer=analyzer, intent=intent)
    metrics = score_split(classifier, prepared).to_json()
    _print_metrics(f"{classifier.version} on {source}", metrics)
    # A held-out file's messages stay unread: looking at its errors is how a model ends
    # up tuned on its test set.
    if show_errors if show_errors is not None else test_file is None:
        decisions = classifier.assess(
            prepared.embeddings, prepared.signals, intents=prepared.intents, texts=prepared.texts
        )
        for example, decision in zip(prepared.examples, decisions, strict=True):
            if example.level != decision.level:
                snippet = " ".join(example.text.split())[:90]
                typer.echo(f"  {example.level:>8} -> {decision.level:<8} {snippet!r}")
    figures: dict[str, Any] = {"test": metrics, "test_source": source}
    if public:
        if classifier.uses_intent:
            raise typer.BadParameter(
                "public figures need a model without intent features", param_hint="--public"
            )
        for path, opt in ((bitext, "--bitext"), (clinc_val, "--clinc-val")):
            if not path.is_file():
                raise typer.BadParameter(f"{path} does not exist", param_hint=opt)
        figures.update(
            _public_figures(
                classifier, bitext=bitext, clinc_val=clinc_val, encoder=encoder, analyzer=analyzer
            )
        )
        _print_public(figures)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {report}")
