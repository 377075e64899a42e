"""Suggestions, respond decisions and agent feedback in the service database.

Every write is one transaction. A failing database raises ``StoreUnavailableError``;
the routes answer 503 so the caller retries, instead of returning drafts whose
feedback could never be recorded or decisions missing from the statistics.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from rapidfuzz.distance import Levenshtein
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from models.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TriageError,
    UnavailableError,
)
from service.database import Database
from service.drafting.draft import Draft, DraftSet
from service.feedback.feedback_records import (
    DecisionRecord,
    FeedbackRecord,
    Outcome,
    SuggestionRecord,
)
from service.privacy.redaction import redact, redact_optional

logger = logging.getLogger(__name__)

EXPORT_BATCH = 500
#: The last record of a complete export: ``{"export_complete": true, "rows": N}``. A
#: stream cut short (the database failed after the 200 was sent) lacks it, so a reader
#: can tell a partial file from a complete one.
EXPORT_TRAILER_KEY = "export_complete"


class StoreUnavailableError(UnavailableError):
    """The database could not record or read feedback data (the caller may retry)."""

    code = "store_unavailable"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def edit_distance(draft: str, final: str) -> float:
    """Normalised Levenshtein distance: 0 for the same text, 1 for nothing in common."""
    return float(Levenshtein.normalized_distance(draft, final))


def draft_json(draft: Draft) -> dict[str, Any]:
    """A draft as stored with its suggestion."""
    return {
        "id": draft.id,
        "text": redact(draft.text),
        "citations": [c.doc_id for c in draft.citations],
        "grounded": draft.grounded,
        "confidence": draft.confidence,
        "generator": draft.generator,
    }


@dataclass(frozen=True)
class SuggestionContext:
    """The message a suggestion answers and the triage behind it."""

    message: str
    channel: str
    source: str
    subject: str | None = None
    intent: str | None = None
    urgency: str | None = None
    model_version: str = "unknown"


@dataclass(frozen=True)
class DecisionEntry:
    """One respond decision as the statistics need it."""

    action: str
    channel: str
    reasons: tuple[str, ...] = ()
    intent: str | None = None
    urgency: str | None = None


@dataclass(frozen=True)
class FeedbackInput:
    """Validated feedback from an agent (see ``service/api/feedback.py``)."""

    suggestion_id: str
    outcome: Outcome
    final_text: str | None = None
    correct_intent: str | None = None
    correct_urgency: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class FeedbackResult:
    """The stored feedback; ``created`` is false when an identical earlier call stored it."""

    feedback_id: int
    suggestion_id: str
    draft_id: str | None
    outcome: Outcome
    edit_distance: float | None
    recorded_at: datetime
    created: bool


class FeedbackStore:
    """Reads and writes the feedback tables of one database.

    Args:
        database: the service database (migrated).
        intent_labels: labels of the loaded intent model; a correction naming another
            intent is refused (``None``: any label is taken).
    """

    def __init__(self, database: Database, *, intent_labels: Sequence[str] | None = None) -> None:
        self.database = database
        self.intent_labels = tuple(intent_labels) if intent_labels is not None else None

    def check(self, feedback: FeedbackInput) -> None:
        """Rules that span fields or need the loaded model.

        Raises:
            InvalidInputError: naming the field at fault.
        """
        if feedback.outcome == "edited" and not (
            feedback.final_text and feedback.final_text.strip()
        ):
            raise InvalidInputError(
                "final_text: an 'edited' outcome needs the text that was sent", field="final_text"
            )
        labels = self.intent_labels
        wrong_intent = feedback.correct_intent is not None and labels is not None
        if wrong_intent and feedback.correct_intent not in (labels or ()):
            raise InvalidInputError(
                f"correct_intent: {feedback.correct_intent!r} is not an intent label of "
                f"the model (known: {', '.join(labels or ())})",
                field="correct_intent",
            )

    # -- writes ------------------------------------------------------------------------
    def record(
        self,
        *,
        decision: DecisionEntry | None,
        drafts: DraftSet | None,
        context: SuggestionContext,
        now: datetime | None = None,
    ) -> None:
        """Store a decision and/or a suggestion in one transaction.

        Raises:
            StoreUnavailableError: the database refused or is unreachable.
        """
        now = now or datetime.now(UTC)
        try:
            with self.database.session() as session, session.begin():
                if drafts is not None:
                    session.add(self._suggestion_row(drafts, context, now))
                    session.flush()
                if decision is not None:
                    session.add(
                        DecisionRecord(
                            created_at=now,
                            action=decision.action,
                            intent=decision.intent,
                            urgency=decision.urgency,
                            channel=decision.channel,
                            reasons=list(decision.reasons),
                            suggestion_id=drafts.id if drafts is not None else None,
                        )
                    )
        except SQLAlchemyError as exc:
            logger.error("could not record suggestion/decision: %s", exc.__class__.__name__)
            raise StoreUnavailableError(
                "the suggestion could not be stored; retry the request"
            ) from exc

    @staticmethod
    def _suggestion_row(
        drafts: DraftSet, context: SuggestionContext, now: datetime
    ) -> SuggestionRecord:
        return SuggestionRecord(
            id=drafts.id,
            created_at=now,
            source=context.source,
            channel=context.channel,
            message=redact(context.message),
            subject=redact(context.subject) if context.subject else None,
            intent=context.intent,
            urgency=context.urgency,
            model_version=context.model_version,
            index_version=drafts.versions.get("kb_index", "unknown"),
            generator=drafts.generator,
            fallback_reason=drafts.fallback_reason,
            needs_agent=drafts.needs_agent,
            relevance=float(drafts.relevance),
            doc_ids=drafts.doc_ids,
            drafts=[draft_json(d) for d in drafts.drafts],
        )

    def add_feedback(
        self, feedback: FeedbackInput, *, now: datetime | None = None
    ) -> FeedbackResult:
        """Store an agent's verdict on a suggestion (or one of its drafts).

        The same id and outcome sent again returns the first result without a new row;
        the same id and outcome with different details is a conflict.

        Raises:
            InvalidInputError: see :meth:`check`.
            NotFoundError: no suggestion or draft has that id.
            ConflictError: this id already has this outcome with other details.
            StoreUnavailableError: the database failed.
        """
        self.check(feedback)
        now = now or datetime.now(UTC)
        try:
            with self.database.session() as session:
                existing = self._existing(session, feedback)
                if existing is not None:
                    return existing
                suggestion, draft_id = self._target(session, feedback.suggestion_id)
                row = FeedbackRecord(
                    created_at=now,
                    suggestion_id=suggestion.id,
                    target_id=feedback.suggestion_id,
                    draft_id=draft_id,
                    outcome=feedback.outcome,
                    final_text=redact_optional(feedback.final_text),
                    correct_intent=feedback.correct_intent,
                    correct_urgency=feedback.correct_urgency,
                    agent_id=feedback.agent_id,
                    edit_distance=self._distance(suggestion, draft_id, feedback),
                )
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:
                    # A concurrent identical call won the race: answer like a replay.
                    session.rollback()
                    existing = self._existing(session, feedback)
                    if existing is None:
                        raise
                    return existing
                return self._result(row, created=True)
        except TriageError:
            raise
        except SQLAlchemyError as exc:
            logger.error("could not record feedback: %s", exc.__class__.__name__)
            raise StoreUnavailableError("feedback could not be stored; retry the request") from exc

    def _existing(self, session: Session, feedback: FeedbackInput) -> FeedbackResult | None:
        row = session.scalars(
            select(FeedbackRecord).where(
                FeedbackRecord.target_id == feedback.suggestion_id,
                FeedbackRecord.outcome == feedback.outcome,
            )
        ).first()
        if row is None:
            return None
        final = redact_optional(feedback.final_text)
        same = (
            row.final_text == final
            and row.correct_intent == feedback.correct_intent
            and row.correct_urgency == feedback.correct_urgency
            and row.agent_id == feedback.agent_id
        )
        if not same:
            raise ConflictError(
                f"suggestion_id: {feedback.suggestion_id!r} already has '{feedback.outcome}' "
                "feedback with other details"
            )
        return self._result(row, created=False)

    @staticmethod
    def _target(session: Session, target_id: str) -> tuple[SuggestionRecord, str | None]:
        """The suggestion an id names: the suggestion itself or one of its drafts."""
        suggestion = session.get(SuggestionRecord, target_id)
        if suggestion is not None:
            return suggestion, None
        set_id, _, _ = target_id.partition("-")
        suggestion = session.get(SuggestionRecord, set_id) if set_id != target_id else None
        if suggestion is not None and any(d.get("id") == target_id for d in suggestion.drafts):
            return suggestion, target_id
        raise NotFoundError(f"suggestion_id: no suggestion or draft with id {target_id!r}")

    @staticmethod
    def _distance(
        suggestion: SuggestionRecord, draft_id: str | None, feedback: FeedbackInput
    ) -> float | None:
        """Distance from the draft to what was sent; for a whole suggestion, from the
        closest draft (the one the agent most likely started from)."""
        if feedback.outcome == "rejected":
            return None
        texts = [
            str(d.get("text", ""))
            for d in suggestion.drafts
            if draft_id is None or d.get("id") == draft_id
        ]
        if feedback.final_text is None:
            return 0.0 if feedback.outcome == "accepted" else None
        final = redact(feedback.final_text)
        return round(min((edit_distance(t, final) for t in texts), default=1.0), 4)

    @staticmethod
    def _result(row: FeedbackRecord, *, created: bool) -> FeedbackResult:
        return FeedbackResult(
            feedback_id=row.id,
            suggestion_id=row.suggestion_id,
            draft_id=row.draft_id,
            outcome=cast(Outcome, row.outcome),  # the table's check constraint allows no other
            edit_distance=row.edit_distance,
            recorded_at=row.created_at,
            created=created,
        )

    # -- reads -------------------------------------------------------------------------
    def open_export(self, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """The export records of :meth:`export`, then the trailer carrying their count.

        The query runs and the first batch is read before this returns, so a database
        that is down is a 503 before anything is sent, not a 200 cut short.

        Raises:
            StoreUnavailableError: the database failed or did not answer.
        """
        records = self.export(since=since)
        try:
            first = next(records, None)
        except SQLAlchemyError as exc:
            records.close()
            logger.error("could not start the feedback export: %s", exc.__class__.__name__)
            raise StoreUnavailableError("feedback could not be read; retry the request") from exc
        return _with_trailer(first, records)

    def export(self, *, since: datetime | None = None) -> Generator[dict[str, Any], None, None]:
        """Feedback rows recorded at or after ``since`` with their suggestion, oldest first,
        read in batches (a generator: the caller streams it)."""
        query = (
            select(FeedbackRecord, SuggestionRecord)
            .join(SuggestionRecord, FeedbackRecord.suggestion_id == SuggestionRecord.id)
            # Purged past retention (service/feedback/retention.py): nothing left to learn from.
            .where(SuggestionRecord.message != "")
            .order_by(FeedbackRecord.created_at, FeedbackRecord.id)
            .execution_options(yield_per=EXPORT_BATCH)
        )
        if since is not None:
            query = query.where(FeedbackRecord.created_at >= since)
        with self.database.session() as session:
            for feedback, suggestion in session.execute(query):
                yield export_line(feedback, suggestion)

    def stats(self, *, since: datetime | None = None, until: datetime | None = None) -> Stats:
        """Counts and rates over decisions, suggestions and feedback created in
        ``[since, until)``."""
        try:
            with self.database.session() as session:
                return self._stats(session, since, until)
        except SQLAlchemyError as exc:
            raise StoreUnavailableError("statistics could not be read; retry") from exc

    def _stats(self, session: Session, since: datetime | None, until: datetime | None) -> Stats:
        def window(column: Any) -> list[Any]:
            conditions = []
            if since is not None:
                conditions.append(column >= since)
            if until is not None:
                conditions.append(column < until)
            return conditions

        def counts(column: Any) -> dict[str, int]:
            rows = session.execute(
                select(column, func.count())
                .where(*window(DecisionRecord.created_at))
                .group_by(column)
            )
            return {str(k) if k is not None else "unknown": int(n) for k, n in rows}

        actions = counts(DecisionRecord.action)
        suggestions = session.scalar(
            select(func.count())
            .select_from(SuggestionRecord)
            .where(*window(SuggestionRecord.created_at))
        )
        needs_agent = session.scalar(
            select(func.count())
            .select_from(SuggestionRecord)
            .where(SuggestionRecord.needs_agent.is_(True), *window(SuggestionRecord.created_at))
        )
        latest: dict[str, tuple[str, float | None]] = {}
        rows = session.execute(
            select(
                FeedbackRecord.suggestion_id, FeedbackRecord.outcome, FeedbackRecord.edit_distance
            )
            .where(*window(FeedbackRecord.created_at))
            .order_by(FeedbackRecord.created_at, FeedbackRecord.id)
        )
        for suggestion_id, outcome, distance in rows:
            latest[suggestion_id] = (outcome, distance)
        outcomes: Counter[str] = Counter(o for o, _ in latest.values())
        distances = [d for _, d in latest.values() if d is not None]
        return Stats(
            decisions=sum(actions.values()),
            actions=actions,
            intents=counts(DecisionRecord.intent),
            urgency=counts(DecisionRecord.urgency),
            suggestions=int(suggestions or 0),
            needs_agent=int(needs_agent or 0),
            outcomes=dict(outcomes),
            mean_edit_distance=round(sum(distances) / len(distances), 4) if distances else None,
        )


@dataclass(frozen=True)
class Stats:
    """Counts of one time window; rates are ``None`` when their denominator is zero."""

    decisions: int
    actions: Mapping[str, int]
    intents: Mapping[str, int]
    urgency: Mapping[str, int]
    suggestions: int
    needs_agent: int
    outcomes: Mapping[str, int]
    mean_edit_distance: float | None

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def auto_reply_rate(self) -> float | None:
        """Share of decisions answered automatically."""
        return self._rate(self.actions.get("auto_reply", 0), self.decisions)

    @property
    def rated(self) -> int:
        """Suggestions with feedback (latest verdict per suggestion)."""
        return sum(self.outcomes.values())

    @property
    def acceptance_rate(self) -> float | None:
        """Share of rated suggestions accepted as drafted."""
        return self._rate(self.outcomes.get("accepted", 0), self.rated)

    @property
    def edit_rate(self) -> float | None:
        """Share of rated suggestions sent after editing."""
        return self._rate(self.outcomes.get("edited", 0), self.rated)

    @property
    def rejection_rate(self) -> float | None:
        """Share of rated suggestions discarded."""
        return self._rate(self.outcomes.get("rejected", 0), self.rated)


def _with_trailer(
    first: dict[str, Any] | None, rest: Iterator[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    rows = 0
    if first is not None:
        yield first
        rows = 1
        for record in rest:
            yield record
            rows += 1
    yield {EXPORT_TRAILER_KEY: True, "rows": rows}


def export_line(feedback: FeedbackRecord, suggestion: SuggestionRecord) -> dict[str, Any]:
    """One JSONL record of the feedback export (read by ``triage retrain``)."""
    drafts: Sequence[Mapping[str, Any]] = suggestion.drafts or []
    draft_text = next(
        (str(d.get("text")) for d in drafts if d.get("id") == feedback.draft_id),
        str(drafts[0].get("text")) if drafts else None,
    )
    return {
        "feedback_id": feedback.id,
        "recorded_at": _iso(feedback.created_at),
        "suggestion_id": suggestion.id,
        "draft_id": feedback.draft_id,
        "outcome": feedback.outcome,
        # Redacted again: rows stored by older versions had only card numbers removed.
        "text": redact(suggestion.message),
        "subject": redact_optional(suggestion.subject),
        "channel": suggestion.channel,
        "predicted_intent": suggestion.intent,
        "predicted_urgency": suggestion.urgency,
        "correct_intent": feedback.correct_intent,
        "correct_urgency": feedback.correct_urgency,
        "draft_text": redact_optional(draft_text),
        "final_text": redact_optional(feedback.final_text),
        "edit_distance": feedback.edit_distance,
        "agent_id": feedback.agent_id,
        "model_version": suggestion.model_version,
        "index_version": suggestion.index_version,
        "generator": suggestion.generator,
        "doc_ids": list(suggestion.doc_ids or []),
        "suggested_at": _iso(suggestion.created_at),
    }
