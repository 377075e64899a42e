"""``triage purge --older-than``: stored texts past the period are blanked (SQLite and
PostgreSQL), newer ones and the statistics stay, and the export skips purged rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from models.errors import InvalidInputError
from service.feedback.feedback_store import (
    DecisionEntry,
    FeedbackInput,
    FeedbackStore,
    SuggestionContext,
)
from service.feedback.retention import parse_age
from tests.service.feedback.conftest import draft_set
from training.cli import app as cli

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=120)
RECENT = NOW - timedelta(days=10)


def _store_one(store: FeedbackStore, set_id: str, message: str, at: datetime) -> None:
    context = SuggestionContext(
        message=message, channel="email", source="respond", subject=f"about {message}"
    )
    store.record(
        decision=DecisionEntry(action="suggest", channel="email", intent="track_order"),
        drafts=draft_set(set_id, f"draft for {message}"),
        context=context,
        now=at,
    )
    store.add_feedback(FeedbackInput(set_id, "edited", final_text=f"final for {message}"), now=at)


@pytest.mark.parametrize(("text_", "days"), [("90d", 90), ("12w", 84), ("36h", 1.5)])
def test_ages(text_: str, days: float) -> None:
    assert parse_age(text_) == timedelta(days=days)


@pytest.mark.parametrize("bad", ["90", "0d", "-5d", "90 days", "d", ""])
def test_bad_ages_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="older_than"):
        parse_age(bad)


def test_purge_blanks_old_texts_only(store: FeedbackStore) -> None:
    _store_one(store, "a" * 32, "old secret message", OLD)
    _store_one(store, "b" * 32, "recent message", RECENT)
    url = store.database.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(cli, ["purge", "--older-than", "90d", "--database-url", url])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) | {"before": None} == {
        "before": None, "suggestions": 1, "feedback": 1, "messages": 0
    }  # fmt: skip

    with store.database.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, message, subject, drafts FROM suggestions")).all()
        finals = conn.execute(text("SELECT suggestion_id, final_text FROM feedback")).all()
    dump = json.dumps([[str(c) for c in r] for r in rows + finals])
    assert "old secret" not in dump and "recent message" in dump
    by_id = {r[0]: r for r in rows}
    assert by_id["a" * 32][1] == "" and by_id["a" * 32][2] is None
    assert dict(finals)["a" * 32] is None

    assert [line["text"] for line in store.export()] == ["recent message"]
    assert store.stats().decisions == 2  # statistics keep the old period

    again = CliRunner().invoke(cli, ["purge", "--older-than", "90d", "--database-url", url])
    assert json.loads(again.stdout)["suggestions"] == 0


def test_purge_refuses_a_bad_age() -> None:
    result = CliRunner().invoke(cli, ["purge", "--older-than", "ninety"])
    assert result.exit_code == 2 and "90d" in result.stderr
