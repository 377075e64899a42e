"""The feedback store on SQLite and PostgreSQL: ids, idempotency, export and statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein
from sqlalchemy import text

from models.errors import ConflictError, NotFoundError
from service.database import Database
from service.feedback.feedback_store import (
    DecisionEntry,
    FeedbackInput,
    FeedbackStore,
    StoreUnavailableError,
    SuggestionContext,
)
from service.privacy.redaction import CARD as CARD_PLACEHOLDER
from tests.service.feedback.conftest import draft_set

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CARD = "4111 1111 1111 1111"


def context(message: str = "How long does a refund take?", **extra: str) -> SuggestionContext:
    return SuggestionContext(
        message=message,
        channel="email",
        source="suggest",
        intent="check_refund_policy",
        urgency="normal",
        model_version="intent@1",
        **extra,  # type: ignore[arg-type]
    )


def test_feedback_for_an_unknown_id_is_not_found(store: FeedbackStore) -> None:
    with pytest.raises(NotFoundError, match="suggestion_id"):
        store.add_feedback(FeedbackInput("0" * 32, "accepted"))
    store.record(decision=None, drafts=draft_set("a" * 32, "Hello"), context=context())
    with pytest.raises(NotFoundError):
        store.add_feedback(FeedbackInput("a" * 32 + "-9", "accepted"))


def test_the_same_feedback_twice_is_recorded_once(store: FeedbackStore) -> None:
    store.record(decision=None, drafts=draft_set("b" * 32, "Hello there"), context=context())
    feedback = FeedbackInput("b" * 32 + "-1", "edited", final_text="Hello there!", agent_id="ann")
    first = store.add_feedback(feedback)
    again = store.add_feedback(feedback)
    assert first.created and not again.created
    assert (again.feedback_id, again.edit_distance, again.recorded_at) == (
        first.feedback_id,
        first.edit_distance,
        first.recorded_at,
    )
    with store.database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM feedback")).scalar() == 1


def test_same_id_and_outcome_with_other_details_is_a_conflict(store: FeedbackStore) -> None:
    store.record(decision=None, drafts=draft_set("c" * 32, "Hello"), context=context())
    store.add_feedback(FeedbackInput("c" * 32, "edited", final_text="Hi"))
    with pytest.raises(ConflictError):
        store.add_feedback(FeedbackInput("c" * 32, "edited", final_text="Hello again"))


def test_edit_distance_is_measured_against_the_named_draft_or_the_closest(
    store: FeedbackStore,
) -> None:
    drafts = draft_set("d" * 32, "Your refund takes 3 days.", "Returns are free.")
    store.record(decision=None, drafts=drafts, context=context())
    final = "Your refund takes 3 business days."
    by_draft = store.add_feedback(FeedbackInput("d" * 32 + "-2", "edited", final_text=final))
    assert by_draft.draft_id == "d" * 32 + "-2"
    assert by_draft.edit_distance == round(
        Levenshtein.normalized_distance("Returns are free.", final), 4
    )
    by_set = store.add_feedback(FeedbackInput("d" * 32, "edited", final_text=final))
    assert by_set.draft_id is None
    assert by_set.edit_distance == round(
        Levenshtein.normalized_distance("Your refund takes 3 days.", final), 4
    )
    accepted = store.add_feedback(FeedbackInput("d" * 32 + "-1", "accepted"))
    assert accepted.edit_distance == 0.0


def test_card_numbers_are_redacted_before_storage(store: FeedbackStore) -> None:
    store.record(
        decision=None,
        drafts=draft_set("e" * 32, "Hi"),
        context=context(f"I was charged twice on card {CARD}", subject=f"card {CARD}"),
    )
    store.add_feedback(FeedbackInput("e" * 32, "edited", final_text=f"Your card {CARD} is fine"))
    [line] = list(store.export())
    # Every text field, not the timestamps (whose microseconds may well read "4111").
    texts = " ".join(str(v) for k, v in line.items() if not k.endswith("_at"))
    assert CARD not in texts and "4111" not in texts
    assert line["text"] == f"I was charged twice on card {CARD_PLACEHOLDER}"
    assert line["final_text"] == f"Your card {CARD_PLACEHOLDER} is fine"


def test_export_holds_what_retraining_needs_and_honours_since(store: FeedbackStore) -> None:
    for i, set_id in enumerate(("f" * 32, "9" * 32)):
        store.record(
            decision=None,
            drafts=draft_set(set_id, f"draft {i}"),
            context=context(f"message {i}"),
            now=T0 + timedelta(hours=i),
        )
        store.add_feedback(
            FeedbackInput(set_id, "rejected", correct_intent="get_refund", correct_urgency="high"),
            now=T0 + timedelta(hours=i, minutes=5),
        )
    lines = list(store.export())
    assert [line["text"] for line in lines] == ["message 0", "message 1"]
    first = lines[0]
    assert first["predicted_intent"] == "check_refund_policy"
    assert first["correct_intent"] == "get_refund" and first["correct_urgency"] == "high"
    assert first["draft_text"] == "draft 0" and first["doc_ids"] == []
    assert first["model_version"] == "intent@1" and first["index_version"] == "kb-test"
    assert datetime.fromisoformat(first["recorded_at"]) == T0 + timedelta(minutes=5)
    later = list(store.export(since=T0 + timedelta(minutes=30)))
    assert [line["text"] for line in later] == ["message 1"]


def test_stats_from_a_known_sequence_of_events(store: FeedbackStore) -> None:
    def decide(action: str, intent: str, urgency: str, at: datetime, set_id: str = "") -> None:
        drafts = draft_set(set_id, "Your refund takes 3 days.") if set_id else None
        store.record(
            decision=DecisionEntry(action, "email", ("x",), intent, urgency),
            drafts=drafts,
            context=context(),
            now=at,
        )

    decide("auto_reply", "track_order", "normal", T0)
    decide("auto_reply", "track_order", "low", T0 + timedelta(minutes=1))
    decide("suggest", "get_refund", "normal", T0 + timedelta(minutes=2), "1" * 32)
    decide("suggest", "complaint", "high", T0 + timedelta(minutes=3), "2" * 32)
    decide("escalate", "complaint", "critical", T0 + timedelta(minutes=4))
    decide("escalate", "complaint", "critical", T0 - timedelta(days=2))  # outside the window
    store.record(
        decision=None,
        drafts=draft_set("3" * 32, "Returns are free.", needs_agent=True),
        context=context(),
        now=T0 + timedelta(minutes=5),
    )
    later = T0 + timedelta(minutes=10)
    store.add_feedback(FeedbackInput("1" * 32, "accepted"), now=later)
    final = "Your refund takes 3 business days."
    store.add_feedback(FeedbackInput("2" * 32 + "-1", "edited", final_text=final), now=later)
    # The agent first rejected, then accepted: the latest verdict counts.
    store.add_feedback(FeedbackInput("3" * 32, "rejected"), now=later)
    store.add_feedback(FeedbackInput("3" * 32, "accepted"), now=later + timedelta(minutes=1))

    stats = store.stats(since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1))
    assert stats.decisions == 5
    assert stats.actions == {"auto_reply": 2, "suggest": 2, "escalate": 1}
    assert stats.intents == {"track_order": 2, "get_refund": 1, "complaint": 2}
    assert stats.urgency == {"normal": 2, "low": 1, "high": 1, "critical": 1}
    assert stats.auto_reply_rate == 0.4
    assert stats.suggestions == 3 and stats.needs_agent == 1
    assert stats.outcomes == {"accepted": 2, "edited": 1}
    assert stats.acceptance_rate == round(2 / 3, 4)
    assert stats.edit_rate == round(1 / 3, 4)
    assert stats.rejection_rate == 0.0
    distance = round(Levenshtein.normalized_distance("Your refund takes 3 days.", final), 4)
    assert stats.mean_edit_distance == round((0.0 + distance + 0.0) / 3, 4)

    everything = store.stats()
    assert everything.decisions == 6 and everything.actions["escalate"] == 2
    nothing = store.stats(since=T0 + timedelta(days=1))
    assert nothing.decisions == 0 and nothing.auto_reply_rate is None
    assert nothing.acceptance_rate is None and nothing.mean_edit_distance is None


def test_a_failing_database_raises_store_unavailable(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'triage.db').as_posix()}")
    database.migrate()
    try:
        with database.engine.begin() as conn:
            conn.execute(text("DROP TABLE respond_decisions"))
        store = FeedbackStore(database)
        with pytest.raises(StoreUnavailableError):
            store.record(
                decision=DecisionEntry("suggest", "email"),
                drafts=draft_set("4" * 32, "Hi"),
                context=context(),
            )
        with database.engine.connect() as conn:
            # One transaction: the suggestion row was rolled back with the decision.
            assert conn.execute(text("SELECT count(*) FROM suggestions")).scalar() == 0
    finally:
        database.close()


def test_migrations_match_the_table_declarations(store: FeedbackStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.database import Base

    with store.database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
