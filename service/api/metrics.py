"""GET /metrics: Prometheus text format (scope ``metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import MetricsDep, requires
from service.errors import ERROR_RESPONSES
from service.service_metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


# Plain `def`: in multiprocess mode the scrape reads every worker's files.
@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[requires("metrics")],
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
        **{code: ERROR_RESPONSES[code] for code in (401, 403, 429, 503)},
    },
)
def metrics(service_metrics: MetricsDep) -> Response:
    """Requests, latencies, decisions, suggestions, verdicts and loaded versions."""
    return Response(service_metrics.exposition(), media_type=CONTENT_TYPE)
