"""GET /metrics after real requests: requests by route and status, latency histograms,
decisions, suggestions and verdicts, versions; the ``metrics`` scope; several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.main import create_app
from service.resources import Resources
from service.settings import ApiKeyEntry, Settings

REPO = Path(__file__).resolve().parents[2]
KEYS = tuple(
    ApiKeyEntry.model_validate({"name": name, "key": f"{name}-key-0123456789", "scopes": [scope]})
    for name, scope in (("metrics", "metrics"), ("bot", "admin"))
)
JANE = {"email": "jane@example.com", "name": "Jane"}


@pytest.fixture(scope="module")
def resources(
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[Resources]:
    with build_tiny_resources(tmp_path_factory.mktemp("var")) as loaded:
        yield loaded


@pytest.fixture
def client(resources: Resources) -> Iterator[TestClient]:
    settings = Settings(**{**resources.settings.model_dump(), "api_keys": KEYS})
    with TestClient(create_app(settings, resources=resources)) as test_client:
        test_client.headers["X-API-Key"] = "bot-key-0123456789"
        yield test_client


def _samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_what_was_served(client: TestClient) -> None:
    for _ in range(3):
        assert client.post("/v1/triage", json={"text": "Where is my order?"}).status_code == 200
    assert client.post("/v1/triage", json={"text": ""}).status_code == 422
    where = {"message": {"text": "Hi, where is my order #4411829?"}, "customer": JANE}
    assert client.post("/v1/respond", json=where).json()["action"] == "auto_reply"
    suggested = client.post("/v1/suggest", json={"message": {"text": "How do refunds work?"}})
    suggestion_id = suggested.json()["suggestion_id"]
    verdict = {"suggestion_id": suggestion_id, "outcome": "accepted"}
    assert client.post("/v1/feedback", json=verdict).status_code == 201
    assert client.post("/v1/feedback", json=verdict).status_code == 200  # a repeat
    assert client.get("/v1/kb/documents/faq/none").status_code == 404
    assert client.get("/no/such/path").status_code == 404

    answer = client.get("/metrics", headers={"X-API-Key": "metrics-key-0123456789"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    triage = {"route": "/v1/triage", "method": "POST"}
    assert _value(samples, "triage_http_requests_total", **triage, status="200") == 3
    assert _value(samples, "triage_http_requests_total", **triage, status="422") == 1
    assert _value(samples, "triage_http_request_duration_seconds_count", **triage) == 4
    assert _value(samples, "triage_http_request_duration_seconds_bucket", **triage, le="+Inf") == 4
    # One after another, each of the three triaged messages had a pipeline call of its own.
    calls = {"pipeline": "triage"}
    assert _value(samples, "triage_pipeline_call_requests_count", **calls) == 3
    assert _value(samples, "triage_pipeline_call_requests_sum", **calls) == 3
    assert _value(samples, "triage_pipeline_call_requests_bucket", **calls, le="1.0") == 3
    kb = {"route": "/v1/kb/documents/{doc_id:path}", "method": "GET", "status": "404"}
    assert _value(samples, "triage_http_requests_total", **kb) == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert _value(samples, "triage_http_requests_total", **unmatched) == 1

    decisions = {
        dict(labels)["action"]: value
        for (name, labels), value in samples.items()
        if name == "triage_decisions_total"
    }
    assert decisions == {"auto_reply": 1}
    assert (
        _value(samples, "triage_suggestions_total", source="suggest", needs_agent="false")
        + (_value(samples, "triage_suggestions_total", source="suggest", needs_agent="true"))
        == 1
    )
    assert _value(samples, "triage_feedback_total", outcome="accepted") == 1

    # The message log's way off the happy path: nothing spooled, rejected or lost here.
    for outcome in ("spooled", "replayed", "rejected", "dropped"):
        key = ("triage_message_log_entries_total", frozenset({("outcome", outcome)}))
        assert samples[key] == 0
    assert samples[("triage_message_log_spool_bytes", frozenset())] == 0
    assert ("triage_message_log_queued", frozenset()) in samples

    [versions] = [labels for (name, labels), _ in samples.items() if name == "triage_versions_info"]
    as_dict = dict(versions)
    assert as_dict["intent_model"] == "intent-tiny@1" and as_dict["kb_index"]


def test_metrics_need_the_metrics_scope(client: TestClient) -> None:
    assert client.get("/metrics", headers={"X-API-Key": "nope"}).status_code == 401
    triage_only = Settings(
        **{
            **client.app.state.settings.model_dump(),  # type: ignore[attr-defined]
            "api_keys": (
                ApiKeyEntry.model_validate(
                    {"name": "t", "key": "triage-key-0123456789", "scopes": ["triage"]}
                ),
            ),
        }
    )
    app = create_app(triage_only, resources=client.app.state.resources)  # type: ignore[attr-defined]
    with TestClient(app) as other:
        answer = other.get("/metrics", headers={"X-API-Key": "triage-key-0123456789"})
        assert answer.status_code == 403 and "'metrics'" in answer.json()["detail"]


WORKER = textwrap.dedent(
    """
    import sys
    from service.service_metrics import ServiceMetrics
    metrics = ServiceMetrics()
    for _ in range(int(sys.argv[1])):
        metrics.observe_request(route="/v1/triage", method="POST", status=200, seconds=0.02)
    metrics.feedback.labels("accepted").inc()
    if len(sys.argv) > 2:
        metrics.watch_versions(lambda: {"intent_model": "m@1"})
        sys.stdout.write(metrics.exposition().decode())
    """
)


def test_several_worker_processes_are_added_up(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    run("3")
    run("4")
    samples = _samples(run("5", "scrape"))
    triage = {"route": "/v1/triage", "method": "POST"}
    assert _value(samples, "triage_http_requests_total", **triage, status="200") == 12
    assert _value(samples, "triage_http_request_duration_seconds_count", **triage) == 12
    assert _value(samples, "triage_feedback_total", outcome="accepted") == 3
    assert ("triage_versions_info", frozenset({("intent_model", "m@1")})) in samples
