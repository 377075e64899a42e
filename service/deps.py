"""Every FastAPI dependency of the routes: the loaded resources and the parts routes use.

The getters are ``async def``: they only read attributes, and FastAPI runs a plain ``def``
dependency in its threadpool (a thread hop per dependency per request, measured at about a
third of the service's own cost per ``/v1/triage`` request). ``authenticate`` may need the
database or Redis: it answers on the loop when memory suffices and goes to the threadpool
only when a lookup is needed.

Routes ask for the part they need (``TriagePipelineDep``, ``ResponderDep``, ...), never for the
whole ``Resources``, so a test can replace one part with ``app.dependency_overrides``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from kb_index.shared_knowledge_base import SharedKnowledgeBase
from service.auth.access_control import AccessControl
from service.auth.auth_errors import LookupNeededError
from service.auth.principal import Principal
from service.auth.scopes import Scope
from service.database import as_utc
from service.feedback.feedback_store import FeedbackStore
from service.insights.insight_sources import InsightSources
from service.insights.insights_service import InsightsService
from service.jobs.job_runner import JobRunner
from service.messages.dashboard import Dashboard
from service.messages.message_log import MessageLog
from service.messages.recording_triager import RecordingTriager
from service.model_slot import ModelSlot
from service.pipeline_threads import PipelineThreads
from service.readiness import ReadinessProbe
from service.request_coalescer import RequestCoalescer
from service.resources import Resources, ServingModels
from service.respond.response_pipeline import ResponsePipeline
from service.schemas import TriageRequest, TriageResponse
from service.service_metrics import ServiceMetrics
from service.settings import Settings
from service.summary.conversation_summary import ConversationSummarizer


async def get_resources(request: Request) -> Resources:
    """The resources the lifespan loaded (requests are served only after it finished)."""
    resources: Resources = request.app.state.resources
    return resources


async def get_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_metrics(request: Request) -> ServiceMetrics:
    """The app's Prometheus metrics."""
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


async def get_readiness(request: Request) -> ReadinessProbe:
    """The readiness probe the lifespan built."""
    probe: ReadinessProbe = request.app.state.readiness
    return probe


ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness)]


async def get_pipeline_threads(request: Request) -> PipelineThreads:
    """The threads the request pipelines run in (``service/pipeline_threads.py``)."""
    threads: PipelineThreads = request.app.state.pipeline_threads
    return threads


PipelineThreadsDep = Annotated[PipelineThreads, Depends(get_pipeline_threads)]

TriageCoalescer = RequestCoalescer[RecordingTriager, TriageRequest, TriageResponse]


async def get_triage_coalescer(request: Request) -> TriageCoalescer:
    """What serves ``POST /v1/triage``: concurrent requests in one pipeline call
    (``service/request_coalescer.py``)."""
    coalescer: TriageCoalescer = request.app.state.triage_coalescer
    return coalescer


TriageCoalescerDep = Annotated[TriageCoalescer, Depends(get_triage_coalescer)]


async def get_responder(resources: ResourcesDep) -> ResponsePipeline:
    """The response pipeline: triage, decide, draft, record."""
    return resources.responder


async def get_kb(resources: ResourcesDep) -> SharedKnowledgeBase:
    """The knowledge base."""
    return resources.kb


async def get_feedback_store(resources: ResourcesDep) -> FeedbackStore:
    """The store of suggestions, decisions and agent feedback."""
    return resources.feedback


async def get_model_slot(resources: ResourcesDep) -> ModelSlot[ServingModels]:
    """The slot holding the serving models (reloaded by ``POST /v1/admin/reload``)."""
    return resources.models


async def get_triage_pipeline(resources: ResourcesDep) -> RecordingTriager:
    """The triager that logs every message it triages (``/v1/triage``)."""
    return resources.triage_pipeline


async def get_message_log(resources: ResourcesDep) -> MessageLog:
    """The log of triaged messages."""
    return resources.message_log


async def get_dashboard(resources: ResourcesDep) -> Dashboard:
    """The statistics over the feedback store and the message log."""
    return Dashboard(resources.feedback, resources.message_log)


TriagePipelineDep = Annotated[RecordingTriager, Depends(get_triage_pipeline)]
MessageLogDep = Annotated[MessageLog, Depends(get_message_log)]
DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]


async def get_jobs(resources: ResourcesDep) -> JobRunner:
    """The job runner (in-process or Celery); job state is in its store."""
    return resources.jobs


ResponderDep = Annotated[ResponsePipeline, Depends(get_responder)]


async def get_summarizer(responder: ResponderDep) -> ConversationSummarizer:
    """The hand-off summarizer (the one respond uses to honour earlier commitments)."""
    return responder.summarizer


SummarizerDep = Annotated[ConversationSummarizer, Depends(get_summarizer)]
KbDep = Annotated[SharedKnowledgeBase, Depends(get_kb)]
FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
ModelSlotDep = Annotated[ModelSlot[ServingModels], Depends(get_model_slot)]

TimeQuery = Annotated[
    datetime | None,
    Query(description="ISO-8601 date or time (UTC when no offset is given), or Unix seconds."),
]


@dataclass(frozen=True)
class TimeWindow:
    """``[since, until)`` in UTC; an open end is ``None``."""

    since: datetime | None
    until: datetime | None


def get_since(since: TimeQuery = None) -> datetime | None:
    """The ``since`` query parameter in UTC."""
    return as_utc(since) if since is not None else None


SinceDep = Annotated[datetime | None, Depends(get_since)]


def get_time_window(start: SinceDep, until: TimeQuery = None) -> TimeWindow:
    """The ``since``/``until`` query parameters; 422 naming ``until`` when it is not after
    ``since``."""
    end = as_utc(until) if until is not None else None
    if start is not None and end is not None and end <= start:
        raise RequestValidationError(
            [{"loc": ("query", "until"), "msg": "must be after since", "type": "value_error"}]
        )
    return TimeWindow(start, end)


TimeWindowDep = Annotated[TimeWindow, Depends(get_time_window)]


async def get_insights(resources: ResourcesDep) -> InsightsService:
    """Emerging issues and knowledge-base gaps over the service database (cheap to build:
    it holds the database and the encoder the resources already loaded)."""
    return InsightsService(InsightSources(resources.database), encoder=resources.encoder)


InsightsDep = Annotated[InsightsService, Depends(get_insights)]

_bearer = HTTPBearer(
    auto_error=False, description="An API key as a bearer token (`Authorization: Bearer <key>`)."
)
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key in the `X-API-Key` header."
)


async def get_access_control(request: Request) -> AccessControl:
    """The app's keys and rate limits (built by the lifespan)."""
    access: AccessControl = request.app.state.access
    return access


AccessControlDep = Annotated[AccessControl, Depends(get_access_control)]


async def authenticate(
    request: Request,
    access: AccessControlDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal | None:
    """The caller's key, checked and charged to its rate limit; ``None`` when no key exists
    (open on loopback). Sets ``request.state.principal_name`` for audit records and logs.

    On the event loop when memory answers (no keys, a static or recently looked-up key, the
    in-memory limiter): a threadpool round trip cost the loop more than the check itself.
    A database or Redis lookup still runs in the threadpool, never on the loop.
    """
    key = bearer.credentials if bearer is not None else header_key
    client = request.client.host if request.client is not None else "unknown"
    server = str((request.scope.get("server") or ("", 0))[0])
    try:
        principal = access.admit(key, client=client, server=server, lookups=False)
    except LookupNeededError:
        principal = await run_in_threadpool(access.admit, key, client=client, server=server)
    if principal is not None:
        request.state.principal_name = principal.name
    return principal


PrincipalDep = Annotated[Principal | None, Depends(authenticate)]


class ScopeCheck:
    """Dependency that lets a request through only when its key holds ``scope``."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, principal: PrincipalDep) -> None:
        """403 unless the key holds the scope (or ``admin``); 401 before that without a key.

        ``async``: a set lookup, cheaper than the threadpool hop a plain ``def`` costs."""
        AccessControl.authorize(principal, self.scope)


def requires(scope: Scope) -> Any:
    """``dependencies=[requires("triage")]``: the route needs that scope."""
    return Depends(ScopeCheck(scope))


async def get_actor(request: Request) -> str | None:
    """Name of the API key the request was authenticated with (``request.state.principal_name``,
    set by the authentication dependency), for audit records; ``None`` without keys."""
    name: str | None = getattr(request.state, "principal_name", None)
    return name


ActorDep = Annotated[str | None, Depends(get_actor)]
