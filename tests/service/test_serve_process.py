"""``triage serve`` as a real process: once its models are loaded it freezes them out of the
garbage collector (``service/heap_freeze.py``), and its log lines, written by a thread of the
log handler's own, all reach stderr by the time it has stopped (shipped default models)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.ports import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.encoder
def test_a_serving_process_freezes_its_models_and_writes_every_log_line(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TRIAGE_DATA_DIR": str(tmp_path / "var"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    stderr = tmp_path / "serve.log"
    with stderr.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "training.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, stderr.read_text(encoding="utf-8")[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not ready within 180 s"
            time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/v1/triage",
            data=json.dumps({"text": "Where is my order 4411829?"}).encode(),
            headers={"Content-Type": "application/json", "X-Request-ID": "serve-process-test"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.loads(answer.read())["intent"]["label"] == "track_order"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)

    lines = [json.loads(line) for line in stderr.read_text(encoding="utf-8").splitlines() if line]
    froze = [r for r in lines if r["logger"] == "service.heap_freeze"]
    assert len(froze) == 1 and froze[0]["message"].startswith("froze ")
    assert int(froze[0]["message"].split()[1]) > 10_000  # the loaded models, not a handful
    served = [r for r in lines if r.get("request_id") == "serve-process-test"]
    assert [r["message"].split()[:3] for r in served] == [["POST", "/v1/triage", "200"]]
    # The last lines of a normal stop are written too (the handler's thread drains first).
    assert any("Finished server process" in r["message"] for r in lines)
