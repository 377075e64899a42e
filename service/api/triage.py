"""POST /v1/triage and /v1/triage/batch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from fastapi import APIRouter

from service.deps import PipelineThreadsDep, TriageCoalescer, TriageCoalescerDep, TriagePipelineDep
from service.messages.recording_triager import RecordingTriager
from service.pipeline_threads import PipelineThreads
from service.request_coalescer import RequestCoalescer
from service.schemas import (
    TriageBatchRequest,
    TriageBatchResponse,
    TriageRequest,
    TriageResponse,
)
from service.service_metrics import ServiceMetrics

router = APIRouter(tags=["triage"])

# `async def` routes whose work (encoding, the heads, building the wire model) runs in one
# call in the pipeline threads (service/pipeline_threads.py). A plain `def` route would
# cost two threadpool calls: FastAPI runs the endpoint in its threadpool and then validates
# a sync endpoint's return value in a second one; an async endpoint's return value
# (already a TriageResponse, so not re-validated) is checked on the loop in microseconds.
# Concurrent single-message requests share that call (service/request_coalescer.py).


def _triage_each(
    triager: RecordingTriager, bodies: Sequence[TriageRequest]
) -> list[TriageResponse]:
    results = triager.triage_each([body.to_domain() for body in bodies])
    return [TriageResponse.from_domain(r) for r in results]


def triage_coalescer(
    threads: PipelineThreads, *, max_batch: int, metrics: ServiceMetrics
) -> TriageCoalescer:
    """What serves ``POST /v1/triage``: concurrent requests triaged in one call."""
    return RequestCoalescer(
        threads,
        _triage_each,
        max_batch=max_batch,
        observe=partial(metrics.observe_pipeline_call, "triage"),
    )


def _triage_batch(triager: RecordingTriager, body: TriageBatchRequest) -> TriageBatchResponse:
    results = triager.triage_many([item.to_domain() for item in body.items])
    return TriageBatchResponse(results=[TriageResponse.from_domain(r) for r in results])


@router.post("/triage", response_model=TriageResponse)
async def triage(
    body: TriageRequest, triager: TriagePipelineDep, coalescer: TriageCoalescerDep
) -> TriageResponse:
    """Classify one message (logged in the message log)."""
    return await coalescer.submit(triager, body)


@router.post("/triage/batch", response_model=TriageBatchResponse)
async def triage_batch(
    body: TriageBatchRequest, triager: TriagePipelineDep, threads: PipelineThreadsDep
) -> TriageBatchResponse:
    """Classify up to 256 messages in one call; results keep the input order."""
    return await threads.run(_triage_batch, triager, body)
