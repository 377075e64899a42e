"""A PostgreSQL that stalls or goes away: fast 503s, a live /healthz, an honest /readyz.

The database is reached through a TCP proxy that the tests freeze (every byte held, as
with a stalled host) or drop (every connection reset). Issue 12 saw /healthz silent for
30 s, /readyz "ready" with the database gone and respond calls hung for over 150 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from service.main import create_app
from service.resources import Resources
from tests.fixtures.tcp_proxy import TcpProxy
from tests.fixtures.uvicorn_server import serving_app

pytestmark = pytest.mark.integration

STATEMENT_TIMEOUT_S = 2.0
# A hang guard, not a speed figure: far above the statement timeout.
CLIENT_TIMEOUT_S = 30.0
RESPOND = {
    "message": {"text": "Where is my order #4411829?"},
    "customer": {"email": "jane@example.com", "name": "Jane"},
}


@pytest.fixture(scope="module")
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", 5432)) as tcp_proxy:
        yield tcp_proxy


@pytest.fixture(scope="module")
def base_url(
    postgres_url: str,
    proxy: TcpProxy,
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[str]:
    """A real uvicorn server whose database connections all pass through ``proxy``."""
    proxied = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    data_dir: Path = tmp_path_factory.mktemp("var")
    with build_tiny_resources(
        data_dir,
        database_url=proxied.render_as_string(hide_password=False),
        database_statement_timeout_s=STATEMENT_TIMEOUT_S,
        database_connect_timeout_s=2.0,
        database_pool_timeout_s=1.0,
        readiness_timeout_s=0.5,
    ) as resources:
        app = create_app(resources.settings, resources=resources)
        with serving_app(app) as url:
            yield url


@pytest.fixture
def client(base_url: str, proxy: TcpProxy) -> Iterator[httpx.Client]:
    proxy.resume()
    with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_S) as http:
        _wait_until_ready(http)
        # Healthy to begin with: the pool holds live connections through the proxy.
        assert http.post("/v1/respond", json=RESPOND).status_code == 200
        assert http.get("/readyz").status_code == 200
        yield http
    proxy.resume()


def _wait_until_ready(client: httpx.Client) -> None:
    """After a stall the database is not tried again for the statement timeout (the stall
    breaker, as long as the Retry-After sent): poll /readyz until it answers 200."""
    for _ in range(int(CLIENT_TIMEOUT_S / 0.2)):
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("/readyz did not recover after the database came back")


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["code"] and body["detail"]


def _assert_not_ready_naming_the_database(response: httpx.Response) -> None:
    _assert_unavailable(response)
    assert "database" in response.json()["detail"]


def test_a_stalled_database_gives_503s_while_healthz_answers(
    client: httpx.Client, proxy: TcpProxy
) -> None:
    proxy.freeze()
    with ThreadPoolExecutor(max_workers=8) as pool:
        pending = [pool.submit(client.post, "/v1/respond", json=RESPOND) for _ in range(8)]
        # While every respond call waits on the frozen database:
        assert client.get("/healthz").json() == {"status": "ok"}
        _assert_not_ready_naming_the_database(client.get("/readyz"))
        responses = [future.result() for future in pending]
    for response in responses:
        _assert_unavailable(response)
    # Triage needs no database and goes on working.
    assert client.post("/v1/triage", json={"text": "where is my order"}).status_code == 200
    proxy.resume()
    _wait_until_ready(client)
    assert client.post("/v1/respond", json=RESPOND).status_code == 200


def test_a_dropped_database_gives_503s_and_recovers(client: httpx.Client, proxy: TcpProxy) -> None:
    proxy.drop()
    _assert_unavailable(client.post("/v1/respond", json=RESPOND))
    _assert_unavailable(client.post("/v1/suggest", json=RESPOND))
    _assert_unavailable(client.get("/v1/stats"))
    # The export checks the database before it answers: a 503, not a 200 cut short.
    _assert_unavailable(client.get("/v1/feedback/export"))
    assert client.get("/healthz").status_code == 200
    _assert_not_ready_naming_the_database(client.get("/readyz"))
    proxy.resume()
    _wait_until_ready(client)
    assert client.post("/v1/respond", json=RESPOND).status_code == 200


def test_a_complete_export_ends_with_its_row_count(client: httpx.Client) -> None:
    response = client.get("/v1/feedback/export")
    assert response.status_code == 200
    lines: list[dict[str, Any]] = [json.loads(x) for x in response.text.splitlines() if x]
    assert lines[-1] == {"export_complete": True, "rows": len(lines) - 1}


def test_a_nul_byte_is_a_422_not_a_503_on_postgresql(client: httpx.Client) -> None:
    body = {**RESPOND, "message": {"text": "Where is my order\x00 #4411829?"}}
    response = client.post("/v1/respond", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "message.text"
