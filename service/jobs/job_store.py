"""The jobs table: submission (idempotent by key), state changes, progress, lookups.

Every runner and every worker process goes through this store, so ``GET /v1/jobs/{id}``
reports the same state whichever process ran the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models.errors import NotFoundError, UnavailableError
from service.database import Database
from service.jobs.job_record import JobRecord
from service.random_ids import new_hex_id


@dataclass(frozen=True)
class Job:
    """A job as stored: what, how far, how it ended."""

    id: str
    kind: str
    key: str
    params: dict[str, Any]
    status: str
    attempts: int
    done: int
    total: int | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        """Succeeded or failed."""
        return self.status in ("succeeded", "failed")


def _job(record: JobRecord) -> Job:
    return Job(
        id=record.id,
        kind=record.kind,
        key=record.key,
        params=dict(record.params),
        status=record.status,
        attempts=record.attempts,
        done=record.done,
        total=record.total,
        result=record.result,
        error=record.error,
        created_at=record.created_at,
        updated_at=record.updated_at,
        finished_at=record.finished_at,
    )


class JobStore:
    """Reads and writes the ``jobs`` table; database failures are ``UnavailableError``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def submit(
        self, kind: str, params: dict[str, Any], *, key: str | None = None
    ) -> tuple[Job, bool]:
        """Record a job; returns it and whether it must be (re)started.

        The same ``kind`` and ``key`` give the same job: a queued, running or succeeded
        one is returned as it is (``False``); a failed one is queued again (``True``), so
        submitting again resumes what failed.
        """
        now = datetime.now(UTC)
        key = key or new_hex_id()
        try:
            with self.database.session() as session, session.begin():
                session.add(
                    JobRecord(
                        id=new_hex_id(),
                        kind=kind,
                        key=key,
                        params=params,
                        status="queued",
                        attempts=0,
                        done=0,
                        total=None,
                        result=None,
                        error=None,
                        created_at=now,
                        updated_at=now,
                        finished_at=None,
                    )
                )
            return self.by_key(kind, key), True
        except IntegrityError:
            pass
        except SQLAlchemyError as exc:
            raise UnavailableError(
                "the jobs database is unavailable; no job was submitted"
            ) from exc
        existing = self.by_key(kind, key)
        if existing.status != "failed":
            return existing, False
        self._set(existing.id, status="queued", error=None, finished_at=None)
        return self.get(existing.id), True

    def by_key(self, kind: str, key: str) -> Job:
        """The job of ``kind`` submitted under ``key``."""
        with self.database.session() as session:
            record = session.scalars(
                select(JobRecord).where(JobRecord.kind == kind, JobRecord.key == key)
            ).first()
            if record is None:
                raise NotFoundError(f"no {kind} job with key {key!r}")
            return _job(record)

    def latest_succeeded(self, kind: str) -> Job | None:
        """The most recently finished successful job of ``kind``, if any."""
        query = (
            select(JobRecord)
            .where(JobRecord.kind == kind, JobRecord.status == "succeeded")
            .order_by(JobRecord.finished_at.desc())
            .limit(1)
        )
        try:
            with self.database.session() as session:
                record = session.scalars(query).first()
                return _job(record) if record is not None else None
        except SQLAlchemyError as exc:
            raise UnavailableError("the jobs database is unavailable") from exc

    def get(self, job_id: str) -> Job:
        """One job; ``NotFoundError`` if there is none with this id."""
        try:
            with self.database.session() as session:
                record = session.get(JobRecord, job_id)
                if record is None:
                    raise NotFoundError(f"no job with id {job_id!r}")
                return _job(record)
        except SQLAlchemyError as exc:
            raise UnavailableError("the jobs database is unavailable") from exc

    def start(self, job_id: str) -> Job | None:
        """Mark the job running (one more attempt); ``None`` when it succeeded already,
        so a redelivered or resubmitted job does its work once."""
        with self.database.session() as session, session.begin():
            record = session.get(JobRecord, job_id, with_for_update=True)
            if record is None:
                raise NotFoundError(f"no job with id {job_id!r}")
            if record.status == "succeeded":
                return None
            record.status = "running"
            record.attempts += 1
            record.error = None
            record.updated_at = datetime.now(UTC)
            session.flush()
            return _job(record)

    def progress(self, job_id: str, done: int, total: int | None) -> None:
        """Record how far the job got."""
        self._set(job_id, done=done, total=total)

    def succeed(self, job_id: str, result: dict[str, Any]) -> None:
        """Record the result."""
        self._set(
            job_id, status="succeeded", result=result, error=None, finished_at=datetime.now(UTC)
        )

    def fail(self, job_id: str, error: str) -> None:
        """Record why the job failed (submitting it again retries it)."""
        self._set(job_id, status="failed", error=error[:2000], finished_at=datetime.now(UTC))

    def _set(self, job_id: str, **values: Any) -> None:
        with self.database.session() as session, session.begin():
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id)
                .values(updated_at=datetime.now(UTC), **values)
            )
