"""Jobs: idempotent submission and execution, the in-process runner behind the API, and a
real Celery worker (``triage worker`` subprocess) on the local Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb_index.kb_document_store import KbDocumentStore
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from service.database import Database
from service.jobs.job_functions import execute_job
from service.jobs.job_store import Job, JobStore
from service.kb_rebuild import open_shared_knowledge_base
from service.main import create_app
from service.resources import Resources
from service.settings import Settings
from tests.conftest import REPO_ROOT
from tests.fixtures.hashing_encoder import HashingEncoder
from training.cli import app

REDIS_URL = os.environ.get("TRIAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _wait_finished(store: JobStore, job_id: str, *, deadline_s: float = 120.0) -> Job:
    """Polls the job; the deadline only guards against hanging forever."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        job = store.get(job_id)
        if job.finished:
            return job
        time.sleep(0.05)
    return store.get(job_id)


class _Env:
    """A job environment whose knowledge base is the one under test."""

    def __init__(self, kb: SharedKnowledgeBase) -> None:
        self.kb = kb

    def triager(self) -> Any:
        raise AssertionError("not used by these jobs")

    def knowledge_base(self) -> SharedKnowledgeBase:
        return self.kb


def test_submission_is_idempotent_and_a_finished_job_is_not_run_again(
    database: Database, tmp_path: Path
) -> None:
    store = JobStore(database)
    old = open_shared_knowledge_base(
        Settings(data_dir=tmp_path), database=database, encoder=HashingEncoder(), follow=False
    )
    kb = SharedKnowledgeBase(
        encoder=HashingEncoder(model_id="test/hashing+onnx-int8-avx2"),
        store=KbDocumentStore(database.engine),
    )
    key = f"reindex-{uuid.uuid4().hex}"
    job, start = store.submit("kb_reindex", {}, key=key)
    assert start and job.status == "queued"
    again, start_again = store.submit("kb_reindex", {}, key=key)
    assert again.id == job.id and not start_again

    done = execute_job(job.id, store=store, env=_Env(kb))
    assert done.status == "succeeded" and done.attempts == 1
    assert done.result == {"reembedded": len(old.store.load())}
    # A redelivered message finds the job done and does not run it again.
    assert execute_job(job.id, store=store, env=_Env(kb)).attempts == 1


def test_a_failed_job_records_why_and_resubmitting_retries_it(database: Database) -> None:
    store = JobStore(database)
    key = f"chunk-{uuid.uuid4().hex}"
    job, _ = store.submit(
        "backfill_chunk", {"input": "/nonexistent/in.jsonl", "output": "/x"}, key=key
    )

    class _Triager:
        pass

    class _FailingEnv(_Env):
        def triager(self) -> Any:
            return _Triager()

    failed = execute_job(job.id, store=store, env=_FailingEnv(None))  # type: ignore[arg-type]
    assert failed.status == "failed" and "in.jsonl" in (failed.error or "")
    resubmitted, start = store.submit("backfill_chunk", {}, key=key)
    assert start and resubmitted.id == job.id and resubmitted.status == "queued"


@pytest.fixture
def client(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> Iterator[TestClient]:
    with (
        build_tiny_resources(tmp_path) as resources,
        TestClient(create_app(resources.settings, resources=resources)) as test_client,
    ):
        yield test_client


def test_reindex_runs_in_process_and_its_state_is_queryable(client: TestClient) -> None:
    submitted = client.post("/v1/kb/reindex")
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    end = time.monotonic() + 60
    while client.get(f"/v1/jobs/{job_id}").json()["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < end
        time.sleep(0.05)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded" and job["kind"] == "kb_reindex"
    assert job["result"] == {"reembedded": 0}  # the stored vectors are this encoder's
    # Nothing changed since: asking again gives the same job.
    assert client.post("/v1/kb/reindex").json()["id"] == job_id


@pytest.mark.parametrize(("job_id", "status"), [("0" * 32, 404), ("not-hex!", 422)])
def test_unknown_or_malformed_job_ids(client: TestClient, job_id: str, status: int) -> None:
    response = client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.integration
@pytest.mark.encoder
def test_distributed_backfill_on_a_real_celery_worker_matches_in_process(tmp_path: Path) -> None:
    """``triage worker`` as a subprocess on Redis (a queue of this test's own) runs the
    chunks of ``triage backfill --distributed`` with the shipped models; the output is
    identical to the in-process run's."""
    queue = f"scale-test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TRIAGE_DATA_DIR": str(tmp_path / "var"),
        "TRIAGE_BROKER_URL": REDIS_URL,
        "TRIAGE_JOBS_QUEUE": queue,
    }
    source = tmp_path / "tickets.jsonl"
    source.write_text(
        "".join(
            json.dumps({"ticket": f"T{i}", "body": text}) + "\n"
            for i, text in enumerate(
                [
                    "Where is my order 4411829? It should have arrived by now.",
                    "I want to cancel my order please",
                    "Someone logged into my account and changed the password!",
                    "Can I get an invoice for order 5521?",
                    "",
                    "What are your opening hours?",
                ]
            )
        )
    )
    args = [str(source), "--text-column", "body", "--id-column", "ticket", "--chunk-size", "2"]

    def backfill(*extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "training.cli", "backfill", *args, *extra],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=600,
            check=False,
        )

    worker = subprocess.Popen(
        [sys.executable, "-m", "training.cli", "worker", "--concurrency", "1", "--pool", "solo"],
        cwd=tmp_path,
        env={**env, "TRIAGE_COMPUTE_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        distributed = backfill("--distributed", "--out", str(tmp_path / "distributed.jsonl"))
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert distributed.returncode == 0, distributed.stderr.decode()[-2000:]
    assert output.count("backfill_chunk): succeeded") == 3, output[-3000:]
    assert json.loads(distributed.stdout.decode().splitlines()[-1])["mode"] == "distributed"
    local = backfill("--out", str(tmp_path / "local.jsonl"))
    assert local.returncode == 0, local.stderr.decode()[-2000:]
    assert (tmp_path / "distributed.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    records = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [f"T{i}" for i in range(6)]
    assert records[0]["intent"] == "track_order" and records[4]["error"] == "empty text"


def test_distributed_backfill_needs_a_broker(tmp_path: Path) -> None:
    source = tmp_path / "t.jsonl"
    source.write_text('{"text": "hello"}\n')
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TRIAGE_DATA_DIR": str(tmp_path)}
    env.pop("TRIAGE_BROKER_URL", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.cli",
            "backfill",
            str(source),
            "--distributed",
            "--out",
            str(tmp_path / "o.jsonl"),
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2 and "TRIAGE_BROKER_URL" in completed.stderr.decode()


def test_worker_needs_a_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRIAGE_BROKER_URL", raising=False)
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2 and "TRIAGE_BROKER_URL" in result.output
