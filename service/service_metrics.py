"""Prometheus metrics of one app: requests by route and status, latency histograms,
decisions by action/intent/urgency, suggestions, agent verdicts (acceptance), the message
log writer's spool counts, and the loaded model and index versions as an info metric.

With several worker processes each keeps its own counters; set
``PROMETHEUS_MULTIPROC_DIR`` (``triage serve --workers N`` does it) and prometheus-client
writes them to files there, which ``exposition()`` adds up on every scrape, whichever
worker answers it. Without it the counters live in this app's own registry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    # Types only: a scrape-only process (and the multiprocess test) loads no pipeline.
    from service.feedback.feedback_store import FeedbackResult
    from service.respond.response_pipeline import RespondOutcome, SuggestOutcome

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Request latency buckets (seconds): triage takes milliseconds, respond tens of them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: Requests per pipeline call (``service/request_coalescer.py``).
CALL_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def multiprocess_dir() -> str | None:
    """The multiprocess directory, when metrics are shared by several workers."""
    return os.environ.get(MULTIPROCESS_ENV) or None


class VersionsCollector(Collector):
    """``triage_versions_info``: every loaded artifact's version (the KB index's as of now),
    read at scrape time from the worker that answers."""

    def __init__(self, versions: Callable[[], Mapping[str, str]]) -> None:
        self._versions = versions

    def collect(self) -> Iterator[Metric]:
        """One info sample whose labels are the component names."""
        info = InfoMetricFamily("triage_versions", "Versions of the loaded models and indexes.")
        versions = {k.replace("-", "_"): str(v) for k, v in self._versions().items()}
        info.add_metric([], versions)
        yield info


class MessageLogCollector(Collector):
    """The message log writer's counts, read at scrape time: entries by outcome
    (``spooled`` to disk while the database was down or the queue full, ``replayed`` from
    the spool, ``rejected`` by the database into the dead-letter file, ``dropped``: lost,
    because not even the disk took them or a crash tore their spool line), entries queued
    in memory, and the spool's backlog.

    In multiprocess mode these are the answering worker's counts (the backlog is shared).
    """

    def __init__(self, counts: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        """Nothing until the lifespan has started a message log."""
        if self.counts is None:
            return
        counts = self.counts()
        entries = CounterMetricFamily(
            "triage_message_log_entries",
            "Message log entries by what became of them off the happy path: spooled, "
            "replayed, rejected (dead letter), dropped (lost).",
            labels=["outcome"],
        )
        for outcome in ("spooled", "replayed", "rejected"):
            entries.add_metric([outcome], counts.get(outcome, 0))
        # A torn spool line (a crash mid-append) is as lost as an entry the disk refused.
        entries.add_metric(["dropped"], counts.get("dropped", 0) + counts.get("unreadable", 0))
        yield entries
        yield GaugeMetricFamily(
            "triage_message_log_queued",
            "Message log entries waiting in memory for the writer.",
            value=counts.get("pending", 0),
        )
        yield GaugeMetricFamily(
            "triage_message_log_spool_bytes",
            "Bytes of spooled message log entries waiting for the database.",
            value=counts.get("spool_bytes", 0),
        )


class ServiceMetrics:
    """The metrics one app records (its own registry, or the multiprocess files)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._versions: Callable[[], Mapping[str, str]] = dict
        registry = self.registry
        self.requests = Counter(
            "triage_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "triage_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.decisions = Counter(
            "triage_decisions",
            "Respond decisions by action, intent and urgency.",
            ["action", "intent", "urgency"],
            registry=registry,
        )
        self.suggestions = Counter(
            "triage_suggestions",
            "Draft sets offered to agents, by source and whether the KB held an answer.",
            ["source", "needs_agent"],
            registry=registry,
        )
        self.feedback = Counter(
            "triage_feedback",
            "Agent verdicts on suggestions by outcome (acceptance rate: accepted / all).",
            ["outcome"],
            registry=registry,
        )
        self.pipeline_calls = Histogram(
            "triage_pipeline_call_requests",
            "Requests served by one pipeline call: above 1, concurrent requests that waited "
            "for a thread were served together (TRIAGE_COALESCE_MAX_BATCH).",
            ["pipeline"],
            buckets=CALL_SIZE_BUCKETS,
            registry=registry,
        )
        self._versions_collector = VersionsCollector(lambda: self._versions())
        registry.register(self._versions_collector)
        self._message_log_collector = MessageLogCollector()
        registry.register(self._message_log_collector)

    def watch_versions(self, versions: Callable[[], Mapping[str, str]]) -> None:
        """Where the versions info metric reads the loaded versions (set by the lifespan)."""
        self._versions = versions

    def watch_message_log(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Where the message log metrics read the writer's counts (set by the lifespan)."""
        self._message_log_collector.counts = counts

    def observe_request(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """One answered HTTP request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_pipeline_call(self, pipeline: str, requests: int) -> None:
        """One pipeline call that served ``requests`` requests."""
        self.pipeline_calls.labels(pipeline).observe(requests)

    def observe_respond(self, outcome: RespondOutcome) -> None:
        """A stored respond decision (and its drafts)."""
        triage = outcome.triage
        self.decisions.labels(
            outcome.decision.action.value,
            triage.intent_label or "none",
            triage.urgency_level or "none",
        ).inc()
        if outcome.drafts is not None:
            self.suggestions.labels("respond", str(outcome.drafts.needs_agent).lower()).inc()

    def observe_suggest(self, outcome: SuggestOutcome) -> None:
        """Stored drafts from ``/v1/suggest``."""
        self.suggestions.labels("suggest", str(outcome.drafts.needs_agent).lower()).inc()

    def observe_feedback(self, result: FeedbackResult) -> None:
        """A newly stored verdict (an idempotent repeat is not counted again)."""
        if result.created:
            self.feedback.labels(result.outcome).inc()

    def exposition(self) -> bytes:
        """The text format of every metric: summed over worker processes in multiprocess
        mode, plus the versions of the worker that answers."""
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        registry.register(self._versions_collector)
        registry.register(self._message_log_collector)
        return generate_latest(registry)
