"""Job routes: the state of a background job (KB reindex, backfill chunk) by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam

from service.deps import JobsDep
from service.errors import error_responses
from service.schemas import JobOut

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobIdPath = Annotated[
    str, PathParam(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$", description="Job id.")
]


@router.get("/{job_id}", response_model=JobOut, responses=error_responses(404))
def get_job(job_id: JobIdPath, jobs: JobsDep) -> JobOut:
    """Status, progress and result of a job; 404 if unknown. The same answer from every
    worker: the state is in the database, whichever process ran the job."""
    return JobOut.model_validate(jobs.store.get(job_id))
