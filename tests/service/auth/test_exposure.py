"""Without any API key the service refuses a non-loopback address (CLI and app start-up)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.auth.auth_errors import UnprotectedExposureError
from service.auth.exposure import is_loopback
from tests.service.auth.conftest import scope_entries

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.com", ""])
def test_other_addresses(host: str) -> None:
    assert not is_loopback(host)


def test_serve_refuses_a_public_address_without_a_key(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TRIAGE_") or k == "TRIAGE_SHARED_DATA"
    }
    env |= {"TRIAGE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "training.cli", "serve", "--host", "0.0.0.0", "--port", "9"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "refusing to listen on 0.0.0.0" in result.stderr
    assert "triage keys create" in result.stderr


def test_app_refuses_to_start_on_a_public_address_without_a_key(
    app_client: Callable[..., AbstractContextManager[TestClient]],
) -> None:
    with (
        pytest.raises(UnprotectedExposureError, match="triage keys create"),
        app_client(host="0.0.0.0"),
    ):
        pass


def test_app_starts_on_a_public_address_with_keys(
    app_client: Callable[..., AbstractContextManager[TestClient]],
) -> None:
    with app_client(host="0.0.0.0", api_keys=tuple(scope_entries())) as client:
        assert client.get("/v1/stats").status_code == 401


def test_without_keys_a_request_from_the_network_is_refused(
    scoped_resources_app: Callable[..., TestClient],
) -> None:
    # The service bound to all interfaces by other means (a bare uvicorn): a request that
    # arrived on a non-loopback address gets 403 saying how to create a key.
    with scoped_resources_app(base_url="http://10.1.2.3") as client:
        answer = client.post("/v1/triage", json={"text": "hi"})
        assert answer.status_code == 403
        assert answer.json()["code"] == "no_api_key_configured"
        assert "triage keys create" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200
    with scoped_resources_app(base_url="http://127.0.0.1") as client:
        assert client.post("/v1/triage", json={"text": "hi"}).status_code == 200
