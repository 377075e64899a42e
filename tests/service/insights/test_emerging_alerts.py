"""The scheduled emerging-issues check: one job per slot, a signed webhook POST for a new
group, nothing for a group already announced, retries on a failing receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from service.insights.emerging_alerts import SIGNATURE_HEADER, slot_of, verify
from service.jobs.emerging_schedule import EmergingSchedule
from service.jobs.job_store import Job
from service.resources import Resources
from tests.service.insights.traffic import NOW, background, burst

SECRET = "webhook-test-secret"


class Receiver:
    """A real HTTP server that records POSTs and fails the first ``failures`` with 500."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.received: list[tuple[bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.attempts <= receiver.failures:
                    self.send_response(500)
                else:
                    receiver.received.append((body, dict(self.headers)))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=1)
    yield server
    server.close()


@pytest.fixture
def resources(
    tmp_path: Path,
    receiver: Receiver,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[Resources]:
    with build_tiny_resources(
        tmp_path / "var",
        insights_webhook_url=receiver.url,
        insights_webhook_secret=SecretStr(SECRET),
    ) as loaded:
        yield loaded


def run_check(resources: Resources, key: str) -> Job:
    params = {"until": NOW.isoformat(), "window_hours": 24}
    job = resources.jobs.submit("emerging_issues", params, key=key)
    for _ in range(600):
        job = resources.jobs.store.get(job.id)
        if job.finished:
            return job
        time.sleep(0.05)
    raise AssertionError(f"the check did not finish: {job}")


def test_a_new_theme_is_posted_once_signed_after_a_retry(
    resources: Resources, receiver: Receiver
) -> None:
    background(resources)
    quiet = run_check(resources, "slot-0")
    assert quiet.status == "succeeded" and quiet.result is not None
    assert quiet.result["new_themes"] == 0 and receiver.attempts == 0

    burst(resources)
    job = run_check(resources, "slot-1")
    assert job.status == "succeeded", job.error
    assert job.result is not None and job.result["new_themes"] == 1
    assert job.result["webhook_status"] == 204
    assert receiver.attempts == 2  # the 500 was retried
    [(body, headers)] = receiver.received
    assert verify(body, SECRET, headers[SIGNATURE_HEADER])
    assert not verify(body + b" ", SECRET, headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    [theme] = payload["themes"]
    assert "locker" in theme["label"] and theme["size"] == 6

    again = run_check(resources, "slot-2")
    assert again.status == "succeeded" and again.result is not None
    assert again.result["new_themes"] == 0 and len(receiver.received) == 1


def test_one_check_per_slot_however_many_schedules_submit(resources: Resources) -> None:
    clock = lambda: NOW  # noqa: E731
    first = EmergingSchedule(
        resources.jobs, interval=timedelta(hours=1), window_hours=24, clock=clock
    )
    second = EmergingSchedule(
        resources.jobs, interval=timedelta(hours=1), window_hours=24, clock=clock
    )
    assert first.submit_due() == second.submit_due() is not None


def test_slots_start_on_the_interval() -> None:
    slot = slot_of(NOW, timedelta(minutes=15))
    assert slot <= NOW < slot + timedelta(minutes=15)
    assert slot.minute % 15 == 0 and slot.second == 0
