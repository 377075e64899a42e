"""Retention: ``triage purge --older-than 90d`` blanks stored message texts past a period.

Only the texts go (the customer's message and subject, the drafts' texts, the agent's
final text); the rows stay, so statistics, intents, outcomes and edit distances over old
periods remain. The feedback export skips purged suggestions: nothing is left to learn from.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from models.errors import InvalidInputError, UnavailableError
from service.database import Database
from service.feedback.feedback_records import FeedbackRecord, SuggestionRecord

logger = logging.getLogger(__name__)

BATCH = 500
_AGE = re.compile(r"(\d{1,6})\s*([dhw])")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True)
class PurgeReport:
    """How many stored texts were blanked, and the cut-off."""

    before: datetime
    suggestions: int
    feedback: int


def parse_age(text: str) -> timedelta:
    """``90d``, ``12w`` or ``36h`` as a duration.

    Raises:
        InvalidInputError: anything else, or zero.
    """
    match = _AGE.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"older_than: {text!r} is not an age such as 90d, 12w or 36h", field="older_than"
        )
    return int(match.group(1)) * _UNIT[match.group(2)]


def purge_message_texts(database: Database, *, before: datetime) -> PurgeReport:
    """Blank the texts of suggestions and feedback created before ``before``.

    Idempotent: already purged rows are not touched again.

    Raises:
        UnavailableError: the database failed (what was committed in earlier batches stays
            purged; run again).
    """
    suggestions = 0
    try:
        while True:
            with database.session() as session, session.begin():
                rows = session.scalars(
                    select(SuggestionRecord)
                    .where(SuggestionRecord.created_at < before, SuggestionRecord.message != "")
                    .limit(BATCH)
                ).all()
                for row in rows:
                    row.message = ""
                    row.subject = None
                    row.drafts = [{**d, "text": ""} for d in row.drafts or []]
                suggestions += len(rows)
            if len(rows) < BATCH:
                break
        with database.session() as session, session.begin():
            result = session.execute(
                update(FeedbackRecord)
                .where(FeedbackRecord.created_at < before, FeedbackRecord.final_text.is_not(None))
                .values(final_text=None)
            )
            feedback = int(result.rowcount or 0)  # type: ignore[attr-defined]
    except SQLAlchemyError as exc:
        raise UnavailableError(f"purge failed: {exc.__class__.__name__}; run it again") from exc
    logger.info("purged texts of %s suggestions and %s feedback rows", suggestions, feedback)
    return PurgeReport(before=before, suggestions=suggestions, feedback=feedback)
