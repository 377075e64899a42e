"""What the insights read from the service database: logged messages with their
embeddings, and suggestions with the agents' verdicts.

Column queries, not ORM entities: a week of traffic is tens of thousands of rows and the
insights need five columns of each.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from service.database import Database
from service.feedback.feedback_records import FeedbackRecord, SuggestionRecord
from service.insights.emerging_issues import ObservedMessage
from service.insights.kb_gaps import GapSignal
from service.messages.message_log_store import MessageLogUnavailableError
from service.messages.message_record import MessageRecord


class InsightSources:
    """Reads for the insights from one migrated database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def observed(self, since: datetime, until: datetime, *, limit: int) -> list[ObservedMessage]:
        """Logged messages in ``[since, until)`` that carry an embedding, newest ``limit``."""
        query = (
            select(
                MessageRecord.id,
                MessageRecord.created_at,
                MessageRecord.text,
                MessageRecord.intent,
                MessageRecord.out_of_scope,
                MessageRecord.embedding,
            )
            .where(
                MessageRecord.created_at >= since,
                MessageRecord.created_at < until,
                MessageRecord.embedding.is_not(None),
            )
            .order_by(MessageRecord.created_at.desc())
            .limit(limit)
        )
        try:
            with self.database.session() as session:
                rows = session.execute(query).all()
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("the message log could not be read; retry") from exc
        return [
            ObservedMessage(
                id=row.id,
                at=row.created_at,
                text=row.text,
                intent=None if row.out_of_scope else row.intent,
                embedding=np.frombuffer(row.embedding, dtype=np.float16).astype(np.float32),
            )
            for row in rows
        ]

    def gap_signals(
        self, since: datetime, until: datetime, *, min_edit: float, limit: int
    ) -> tuple[list[GapSignal], list[str]]:
        """Suggestions in ``[since, until)`` that showed a gap (see ``kb_gaps``), and the
        messages of the others (the background that makes group titles distinctive)."""
        verdicts = (
            select(
                SuggestionRecord.id,
                SuggestionRecord.message,
                SuggestionRecord.needs_agent,
                FeedbackRecord.outcome,
                FeedbackRecord.final_text,
                FeedbackRecord.edit_distance,
            )
            .outerjoin(FeedbackRecord, FeedbackRecord.suggestion_id == SuggestionRecord.id)
            .where(SuggestionRecord.created_at >= since, SuggestionRecord.created_at < until)
            .order_by(SuggestionRecord.created_at.desc())
            .limit(limit)
        )
        gap = or_(
            SuggestionRecord.needs_agent.is_(True),
            FeedbackRecord.outcome == "rejected",
            and_(FeedbackRecord.outcome == "edited", FeedbackRecord.edit_distance >= min_edit),
        )
        try:
            with self.database.session() as session:
                rows = session.execute(verdicts.add_columns(gap.label("is_gap"))).all()
        except SQLAlchemyError as exc:
            raise MessageLogUnavailableError("suggestions could not be read; retry") from exc
        signals: dict[str, GapSignal] = {}
        background: list[str] = []
        for row in rows:
            if not row.is_gap:
                background.append(row.message)
                continue
            known = signals.get(row.id)
            # One signal per suggestion; an agent's final text wins over none.
            if known is None or (known.final_text is None and row.final_text):
                signals[row.id] = GapSignal(
                    suggestion_id=row.id,
                    message=row.message,
                    needs_agent=bool(row.needs_agent),
                    outcome=row.outcome,
                    final_text=row.final_text,
                )
        return list(signals.values()), background
