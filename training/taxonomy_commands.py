"""`triage intents suggest` and `triage intents build`: a team's own taxonomy, found in its
messages or built from a short spec."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from models.errors import InvalidInputError, TriageError
from models.jsonl_lines import jsonl_objects
from training.command_helpers import fail, language_detector, load_encoder

if TYPE_CHECKING:
    from training.intent_spec import IntentSpec
    from training.intent_suggestions import SuggestionReport

app = typer.Typer(
    help="Your own taxonomy: find intents your data needs, build a model from a spec.",
    no_args_is_help=True,
)


def read_messages(
    path: Path, *, text_column: str, label_column: str | None
) -> tuple[list[str], list[str] | None]:
    """Texts (and labels, when the file has the label column) of a CSV or JSONL file.

    ``label_column=None`` uses a ``label`` column when there is one. Rows with an empty
    text are skipped.

    Raises:
        InvalidInputError: unreadable file, bad JSON line, or a missing named column.
    """
    records: list[dict[str, object]] = []
    try:
        if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
            raw = path.read_text(encoding="utf-8-sig")
            records = [item for _, item in jsonl_objects(raw.splitlines(), source=path)]
            columns = {key for record in records for key in record}
        else:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                columns = set(reader.fieldnames or [])
                records = list(reader)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise InvalidInputError(f"{path}: malformed CSV ({exc})") from exc
    if text_column not in columns:
        raise InvalidInputError(
            f"{path}: no column {text_column!r} (columns: {', '.join(sorted(columns))})"
        )
    if label_column is not None and label_column not in columns:
        raise InvalidInputError(
            f"{path}: no column {label_column!r} (columns: {', '.join(sorted(columns))})"
        )
    label_key = label_column or ("label" if "label" in columns else None)
    kept = [r for r in records if str(r.get(text_column) or "").strip()]
    if not kept:
        raise InvalidInputError(f"{path}: no rows with text in {text_column!r}")
    texts = [str(r[text_column]) for r in kept]
    labels = [str(r.get(label_key) or "").strip() for r in kept] if label_key else None
    return texts, labels


def _print(report: SuggestionReport, *, how: str, overlaps_checked: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"{report.rows} messages, {report.uncovered} not covered by any intent ({how}); "
        f"{len(report.candidates)} candidate intents hold {report.clustered} of them."
    )
    if report.candidates:
        table = Table(title="Candidate intents", show_lines=False)
        table.add_column("#", justify="right")
        table.add_column("name")
        table.add_column("size", justify="right")
        table.add_column("cohesion", justify="right")
        table.add_column("distinctive terms")
        table.add_column("closest intent")
        for i, c in enumerate(report.candidates, start=1):
            closest = (
                f"{c.closest_intent} ({c.closest_similarity:.2f})" if c.closest_intent else "-"
            )
            table.add_row(
                str(i), c.name, str(c.size), f"{c.cohesion:.2f}", ", ".join(c.terms), closest
            )
        console.print(table)
        for i, c in enumerate(report.candidates, start=1):
            console.print(f"[bold]{i}. {c.name}[/bold] ({c.size} messages), e.g.:")
            for text in c.examples:
                line = " ".join(text.split())
                console.print(f"   - {line[:140]}{'...' if len(line) > 140 else ''}", markup=False)
    if report.overlaps:
        table = Table(title="[yellow]Overlapping intents[/yellow]")
        table.add_column("intents")
        table.add_column("confusion", justify="right")
        table.add_column("centroid cos", justify="right")
        table.add_column("e.g.")
        for o in report.overlaps:
            example = " ".join(o.examples[0].split())[:80] if o.examples else ""
            table.add_row(
                f"{o.first} / {o.second}",
                f"{o.confusion:.0%}",
                f"{o.centroid_similarity:.2f}",
                example,
            )
        console.print(table)
        console.print(
            "[yellow]warning: the intents above share examples; merge them or rewrite their "
            "examples so they differ.[/yellow]"
        )
    elif overlaps_checked:
        console.print("no overlapping intents among the labelled messages")


@app.command("suggest")
def suggest(
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="Messages: CSV or JSONL."
    ),
    text_column: str = typer.Option("text", "--text-column", help="Column with the message."),
    label_column: str | None = typer.Option(
        None,
        "--label-column",
        help="Column with each message's intent, empty when it has none (default: 'label' "
        "when the file has one).",
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        exists=True,
        file_okay=False,
        help="Intent artifact: messages it rejects as out of scope count as uncovered. Used "
        "by default (the service's model) when the data has no labels.",
    ),
    oos_label: str = typer.Option(
        "out_of_scope", "--oos-label", help="Label that marks a message as not covered."
    ),
    languages: str | None = typer.Option(
        None,
        "--languages",
        help="Comma-separated languages the model reads (default: TRIAGE_SUPPORTED_LANGUAGES, "
        "'en'); uncovered messages in other languages are counted, not clustered.",
    ),
    min_size: int = typer.Option(5, "--min-size", min=2, help="Smallest group to propose."),
    distance: float = typer.Option(
        0.7,
        "--distance",
        min=0.05,
        max=1.5,
        help="Average cosine distance below which messages group together (smaller: tighter).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Propose new intents from messages no intent covers, and warn about intents whose
    examples overlap."""
    from models.intent_classifier import IntentClassifier
    from models.message_analyzer import MessageAnalyzer
    from service.settings import Settings
    from training.intent_suggestions import IntentSuggester
    from training.intent_training import encode_texts

    detector = language_detector(languages)
    try:
        raw, labels = read_messages(data, text_column=text_column, label_column=label_column)
        analyzer = MessageAnalyzer()
        # What the service's classifier would read: no quoted thread, no signature.
        texts = [analyzer.focus_text(t) for t in raw]
        encoder = load_encoder()
        embeddings = encode_texts(encoder, texts, desc="encoding messages")
        uncovered = [True] * len(texts)
        how = []
        if labels is not None:
            labels = ["" if label == oos_label else label for label in labels]
            uncovered = [not label for label in labels]
            how.append("no label")
        # A message the encoder cannot read would only cluster by language, and the model's
        # verdict on it means nothing; it needs a queue of its own (routing:
        # language_supported: false), not an English intent.
        detector.load()
        skipped: Counter[str] = Counter()
        for i, text in enumerate(texts):
            if uncovered[i]:
                guess = detector.detect(text)
                if not guess.supported:
                    uncovered[i] = False
                    skipped[guess.code] += 1
        if model is not None or labels is None:
            folder = model or Settings().intent_model_dir
            classifier = IntentClassifier.from_artifact(folder, encoder=encoder)
            decisions = classifier.predict_read(texts, embeddings.astype("float32"))
            uncovered = [u and d.out_of_scope for u, d in zip(uncovered, decisions, strict=True)]
            how.append(f"out of scope for {classifier.version}")
        report = IntentSuggester(min_cluster_size=min_size, distance_threshold=distance).suggest(
            texts, embeddings, uncovered=uncovered, labels=labels
        )
    except TriageError as exc:
        raise fail(str(exc)) from exc
    languages_skipped = dict(skipped.most_common())
    if as_json:
        extra = {"uncovered_by": " and ".join(how), "skipped_languages": languages_skipped}
        typer.echo(json.dumps({**report.to_json(), **extra}))
        return
    _print(report, how=" and ".join(how), overlaps_checked=labels is not None)
    if languages_skipped:
        typer.echo(
            "not clustered, other languages (route them with `language_supported: false`): "
            + ", ".join(f"{code} {n}" for code, n in languages_skipped.items())
        )


def spec_routing(spec: IntentSpec) -> dict[str, object]:
    """A routing document for a spec: one queue per category (its name in lower case),
    emergencies to ``escalations``, other languages to the spec's language queue."""
    categories = sorted({i.category for i in spec.intents if i.category})
    return {
        "version": 1,
        "default_queue": "general",
        "priority_by_urgency": {"critical": "P1", "high": "P2", "normal": "P3", "low": "P4"},
        "queue_by_category": {c: c.lower() for c in categories},
        "rules": [
            {"when": {"urgency": "critical"}, "queue": "escalations"},
            {"when": {"language_supported": False}, "queue": spec.languages.queue},
        ],
    }


@app.command("build")
def build(
    spec_path: Path = typer.Option(
        ..., "--spec", exists=True, dir_okay=False, help="Intents spec (YAML)."
    ),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Artifact folder to write."),
    negatives: Path | None = typer.Option(
        None,
        "--negatives",
        exists=True,
        dir_okay=False,
        help="CSV (text,label) of generic out-of-scope texts that calibrate the rejection, "
        "e.g. ../shared/data/clinc150_train.csv (its out_of_scope rows). Without it only "
        "gibberish calibrates, and the model rejects little.",
    ),
    negatives_label: str = typer.Option(
        "out_of_scope",
        "--negatives-label",
        help="Use only the --negatives rows with this label; '' uses every row.",
    ),
    own_negatives: list[Path] = typer.Option(
        [],
        "--own-negatives",
        exists=True,
        dir_okay=False,
        help="CSV or JSONL with a 'text' column: your own messages that none of the intents "
        "should take (repeatable); every row calibrates the rejection.",
    ),
    extra_data: Path | None = typer.Option(
        None,
        "--extra-data",
        exists=True,
        dir_okay=False,
        help="CSV (text,label) of more examples for the spec's intents: agent corrections, "
        "imported tickets. With enough of them this is the full model.",
    ),
    feedback: Path | None = typer.Option(
        None,
        "--feedback",
        exists=True,
        dir_okay=False,
        help="Feedback export (GET /v1/feedback/export, JSONL): agents' intent corrections "
        "become more examples.",
    ),
    descriptions: bool = typer.Option(
        True,
        "--descriptions/--no-descriptions",
        help="Use each intent's description as one more example.",
    ),
    unseen_intents: bool = typer.Option(
        True,
        "--unseen-intents/--no-unseen-intents",
        help="Also fit the similarity threshold on intents held out of the spec, so "
        "neighbours of your intents that the spec lacks are rejected.",
    ),
    max_in_scope_drop: float | None = typer.Option(
        None,
        "--max-in-scope-drop",
        min=0.0,
        max=0.5,
        help="Held-out in-scope accuracy the rejection may cost (default 0.05 for few-shot).",
    ),
    routing_out: Path | None = typer.Option(
        None,
        "--routing-out",
        dir_okay=False,
        help="Also write a routing file (TRIAGE_ROUTING_FILE) for the spec's categories and "
        "its language queue.",
    ),
    version: str | None = typer.Option(
        None, "--version", help="Artifact version (default: UTC date and time)."
    ),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Build a servable intent model from a spec: descriptions and a few examples per
    intent, with out-of-scope rejection calibrated on held-out examples and negatives."""
    from datetime import UTC, datetime

    import yaml

    from models.routing_policy import RoutingPolicy
    from training.datasets import concatenate
    from training.few_shot_intents import (
        FEW_SHOT_MAX_IN_SCOPE_DROP,
        SpecBuildOptions,
        build_intent_model,
        read_extra_examples,
        read_feedback_examples,
        read_generic_negatives,
        spec_manifest_params,
        without_other_languages,
    )
    from training.intent_commands import save_trained
    from training.intent_spec import OOS_LABEL, load_spec

    options = SpecBuildOptions(
        use_descriptions=descriptions,
        unseen_intents=unseen_intents,
        max_in_scope_drop=(
            FEW_SHOT_MAX_IN_SCOPE_DROP if max_in_scope_drop is None else max_in_scope_drop
        ),
        seed=seed,
    )
    try:
        spec = load_spec(spec_path)
        spec, foreign = without_other_languages(
            spec, language_detector(",".join(spec.languages.supported))
        )
        for note in foreign:
            typer.secho(f"warning: {note}", fg=typer.colors.YELLOW, err=True)
        extra = read_extra_examples(extra_data, spec) if extra_data else None
        if feedback is not None:
            corrected, skipped = read_feedback_examples(feedback, spec)
            typer.echo(
                f"feedback: {len(corrected)} corrected messages added"
                + (
                    f", {skipped} corrections to intents not in the spec left out"
                    if skipped
                    else ""
                )
            )
            extra = concatenate(extra, corrected) if extra is not None else corrected
        neg_texts = (
            read_generic_negatives(negatives, oos_label=negatives_label or None)
            if negatives
            else []
        )
        for path in own_negatives:
            neg_texts += read_messages(path, text_column="text", label_column=None)[0]
        if not neg_texts:
            typer.secho(
                "warning: no --negatives; only gibberish calibrates the out-of-scope "
                "rejection, so real off-topic messages will mostly get an intent",
                fg=typer.colors.YELLOW,
                err=True,
            )
        examples = sum(len(i.examples) for i in spec.intents) + (len(extra) if extra else 0)
        typer.echo(
            f"spec {spec.name}: {len(spec.intents)} intents, {examples} examples"
            + (", descriptions as examples" if descriptions else "")
            + f"; {len(neg_texts)} calibration negatives"
        )
        version = version or datetime.now(UTC).strftime("%Y.%m.%d-%H%M%S")
        result = build_intent_model(
            spec,
            encoder=load_encoder(),
            negatives=neg_texts,
            extra=extra,
            options=options,
            version=version,
        )
        result.params.update(spec_manifest_params(spec, options))
        training_data = {
            "spec": str(spec_path),
            "sha256": spec.sha256,
            "examples": examples,
            "extra": str(extra_data) if extra_data else None,
            "extra_sha256": extra.sha256 if extra else None,
            "feedback": str(feedback) if feedback else None,
            "negatives": f"{negatives}:{negatives_label or '*'}" if negatives else None,
            "own_negatives": [str(p) for p in own_negatives],
        }
        heldout, metrics = save_trained(
            result, out, training_data=training_data, oos_label=OOS_LABEL
        )
        routing_doc = spec_routing(spec)
        if routing_out is not None:
            RoutingPolicy.from_mapping(routing_doc, source=str(routing_out))
            routing_out.parent.mkdir(parents=True, exist_ok=True)
            routing_out.write_text(yaml.safe_dump(routing_doc, sort_keys=False), encoding="utf-8")
    except TriageError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"cannot write the output: {exc}") from exc

    heads = result.classifier.heads
    typer.echo(f"held-out figures ({result.calibration_source}):")
    typer.echo(json.dumps(heldout, indent=2))
    typer.echo(
        f"out-of-scope threshold {heads.oos_threshold}, similarity threshold "
        f"{heads.similarity_threshold}, ECE {metrics['heldout_ece']}"
    )
    unseen = result.metrics.get("unseen_intent_calibration")
    if unseen:
        typer.echo(
            f"unseen-intent calibration ({unseen['intent_groups']} intent groups held out in "
            f"turn): similarity threshold {unseen['similarity_threshold_before']} -> "
            f"{heads.similarity_threshold}; rejects {unseen['unseen_intent_recall']:.0%} of "
            f"held-out intents' examples, {unseen['in_scope_rejected_loo']:.0%} of in-scope "
            "examples (leave-one-out)"
        )
    no_auto = sorted(name for name, ok in spec.auto_reply.items() if not ok)
    if no_auto:
        typer.echo(f"auto_reply: false recorded for {', '.join(no_auto)}")
    languages = ",".join(spec.languages.supported)
    typer.echo(
        f"languages: {languages} (recorded in the manifest: the service trusts the model on "
        "these unless TRIAGE_SUPPORTED_LANGUAGES says otherwise). Messages "
        "in any other language are not trusted to these intents (intent_trusted: false) and "
        f"the routing rule language_supported: false sends them to {spec.languages.queue!r}"
        + (f" (written to {routing_out})" if routing_out else " (--routing-out writes it)")
    )
    typer.echo(f"wrote {out}")
