"""`triage tickets import`: a helpdesk export in, a training CSV and a drop report out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from models.errors import TriageError
from training.command_helpers import fail, language_detector
from training.ticket_readers import ExportFormat

if TYPE_CHECKING:
    from training.ticket_import import ImportReport

app = typer.Typer(
    help="Helpdesk exports: turn Zendesk, Freshdesk or CSV tickets into training data.",
    no_args_is_help=True,
)


def _print_report(report: ImportReport, *, out: Path, dropped_path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    kept = len(report.kept)
    labelled = sum(1 for t in report.kept if t.label)
    console.print(
        f"{report.source}: read {report.total} tickets, kept {kept} ({labelled} labelled), "
        f"dropped {len(report.dropped)}"
    )
    drops = Table(title="Dropped", show_edge=False)
    drops.add_column("reason")
    drops.add_column("tickets", justify="right")
    drops.add_column("what happens")
    explanations = {
        "spam": "helpdesk spam flag or a drop tag/type of the mapping",
        "empty_after_cleaning": "nothing left once HTML, quotes and signatures are gone",
        "language": "not a supported language: "
        + (", ".join(f"{code} {n}" for code, n in report.dropped_languages().items()) or "none"),
        "no_mapping": "no mapping rule matches its tags or type (--keep-unmapped keeps them)",
        "duplicate": "same cleaned text as a ticket kept earlier",
    }
    for reason, n in report.drop_counts().items():
        drops.add_row(reason, str(n), explanations[reason])
    console.print(drops)
    labels = Table(title="Kept per intent", show_edge=False)
    labels.add_column("intent")
    labels.add_column("rows", justify="right")
    for label, n in report.label_counts().items():
        labels.add_row(label or "(unlabelled)", str(n))
    console.print(labels)
    console.print(
        "urgency: "
        + ", ".join(f"{level or '(none)'} {n}" for level, n in report.urgency_counts().items())
    )
    if report.unmapped_priorities:
        console.print(
            "[yellow]priorities without an urgency level (add them under `urgency:` in the "
            f"mapping): {report.unmapped_priorities}[/yellow]"
        )
    console.print(f"wrote {out} and {dropped_path}")


@app.command("import")
def import_tickets(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The export file."),
    export_format: ExportFormat = typer.Option(
        ...,
        "--format",
        help="zendesk (API/full JSON export or CSV export), freshdesk (API JSON or CSV "
        "export) or csv (any CSV, see --column).",
    ),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="Training CSV to write."),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        exists=True,
        dir_okay=False,
        help="YAML: tags/types → intents (first matching rule wins), priority → urgency, "
        "drop tags. Without it the ticket type/category is the intent.",
    ),
    columns: list[str] = typer.Option(
        [],
        "--column",
        help="For --format csv: FIELD=HEADER (fields: id, subject, text, tags, type, "
        "priority, status, channel, created_at); repeatable. Unnamed fields use their "
        "own name as header.",
    ),
    languages: str | None = typer.Option(
        None,
        "--languages",
        help="Comma-separated languages to keep (default: TRIAGE_SUPPORTED_LANGUAGES, 'en'); "
        "tickets in other languages are dropped and counted.",
    ),
    keep_unmapped: bool = typer.Option(
        False,
        "--keep-unmapped",
        help="Keep tickets no rule maps, with an empty label (for `triage intents suggest`; "
        "`triage train` skips them).",
    ),
    dropped: Path | None = typer.Option(
        None,
        "--dropped",
        dir_okay=False,
        help="Where to list dropped tickets (id, reason, detail); default OUT.dropped.csv.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
) -> None:
    """Import a helpdesk export: clean the messages, map tags to intents and priority to
    urgency, drop spam, empty, non-supported-language and duplicate tickets."""
    from models.message_analyzer import MessageAnalyzer
    from training.ticket_import import TicketImporter, write_drop_report, write_training_csv
    from training.ticket_mapping import TicketMapping
    from training.ticket_readers import read_tickets

    dropped_path = dropped or out.with_name(f"{out.stem}.dropped.csv")
    detector = language_detector(languages)
    try:
        rules = TicketMapping.from_file(mapping) if mapping else TicketMapping.types_only()
        tickets = read_tickets(file, export_format=export_format, columns=columns)
        importer = TicketImporter(
            rules,
            analyzer=MessageAnalyzer(),
            language=detector.load(),
            keep_unmapped=keep_unmapped,
        )
        report = importer.import_tickets(tickets, source=str(file), progress=not as_json)
    except TriageError as exc:
        raise fail(str(exc)) from exc
    if not report.kept:
        raise fail(f"{file}: every ticket was dropped: {report.drop_counts()}")
    write_training_csv(report, out)
    write_drop_report(report, dropped_path)
    if as_json:
        summary = {**report.summary(), "out": str(out), "dropped_list": str(dropped_path)}
        typer.echo(json.dumps(summary))
        return
    _print_report(report, out=out, dropped_path=dropped_path)
