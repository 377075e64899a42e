"""``triage insights emerging``: the emerging-issues report of the service database, as a
readable table (or JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import typer

app = typer.Typer(help="What customers write about: emerging issues.", no_args_is_help=True)


def _when(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date/time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("emerging")
def emerging(
    since: str | None = typer.Option(None, "--since", help="Start (ISO); default: 24 h ago."),
    until: str | None = typer.Option(None, "--until", help="End (ISO); default: now."),
    baseline_days: int = typer.Option(7, "--baseline-days", min=1, max=90),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Default: TRIAGE_DATABASE_URL or the SQLite file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Intents far above their own trailing rate, and new themes, in a period."""
    from service.database import Database
    from service.insights.emerging_issues import EmergingIssueDetector, significance
    from service.insights.insight_sources import InsightSources
    from service.insights.insights_service import emerging_report
    from service.settings import Settings

    end = _when(until, datetime.now(UTC))
    start = _when(since, end - timedelta(hours=24))
    if end <= start:
        raise typer.BadParameter("--until must be after --since")
    database = Database(database_url or Settings().resolved_database_url)
    try:
        database.migrate()
        report = emerging_report(
            InsightSources(database),
            EmergingIssueDetector(),
            start,
            end,
            baseline_days=baseline_days,
        )
    finally:
        database.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "since": start.isoformat(),
                    "until": end.isoformat(),
                    "messages": report.messages,
                    "baseline_messages": report.baseline_messages,
                    "spikes": [vars(s) for s in report.spikes],
                    "themes": [
                        {
                            **vars(t),
                            "first_seen": t.first_seen.isoformat(),
                            "last_seen": t.last_seen.isoformat(),
                        }
                        for t in report.themes
                    ],
                },
                indent=2,
            )
        )
        return
    typer.echo(
        f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} UTC: {report.messages} messages, "
        f"baseline {report.baseline_messages} over {baseline_days} days"
    )
    if not report.spikes and not report.themes:
        typer.echo("nothing emerging")
        return
    if report.spikes:
        typer.echo(f"\n{'intent spike':<32} {'observed':>8} {'expected':>9} {'-log10 p':>9}")
        for s in report.spikes:
            typer.echo(
                f"{s.intent:<32} {s.observed:>8} {s.expected:>9.1f} {significance(s.p_value):>9}"
            )
    for t in report.themes:
        typer.echo(
            f"\ntheme {t.label}: {t.size} messages (expected {t.expected:.1f}, x{t.growth}, "
            f"-log10 p {significance(t.p_value)}), {t.first_seen:%m-%d %H:%M} - "
            f"{t.last_seen:%m-%d %H:%M}; terms: {', '.join(t.terms)}"
        )
        for example in t.examples:
            typer.echo(f"    - {example}")
