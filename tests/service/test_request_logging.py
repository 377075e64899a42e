"""Request ids (``X-Request-ID`` accepted and echoed), JSON log lines that carry the id and
never the customer's text, and SQL parameters kept out of errors and logs."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.database import Database
from service.logging_config import logging_config
from service.main import create_app
from service.resources import Resources
from service.settings import ApiKeyEntry, Settings

SECRET_TEXT = "Purple elephants ate my parcel 4411829"
EMAIL = "jane.secret@example.com"
KEY = ApiKeyEntry.model_validate(
    {"name": "logging-bot", "key": "logging-key-0123456789", "scopes": ["admin"]}
)


@pytest.fixture(scope="module")
def resources(
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Iterator[Resources]:
    with build_tiny_resources(tmp_path_factory.mktemp("var")) as loaded:
        yield loaded


@pytest.fixture
def client(resources: Resources) -> Iterator[TestClient]:
    settings = Settings(**{**resources.settings.model_dump(), "api_keys": (KEY,)})
    with TestClient(create_app(settings, resources=resources)) as test_client:
        test_client.headers["X-API-Key"] = "logging-key-0123456789"
        yield test_client


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's JSON logging config at DEBUG, written to a buffer; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logging.config.dictConfig(logging_config("debug", fmt="json", stream=buffer))
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def _records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_sane_request_id_is_echoed(client: TestClient) -> None:
    answer = client.get("/v1/stats", headers={"X-Request-ID": "helpdesk-42.a:b"})
    assert answer.headers["x-request-id"] == "helpdesk-42.a:b"


@pytest.mark.parametrize("sent", [None, "x" * 129, "two words", "id;drop"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(
    client: TestClient, sent: str | None
) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}
    echoed = client.get("/v1/stats", headers=headers).headers["x-request-id"]
    assert echoed != sent and len(echoed) == 32 and int(echoed, 16) >= 0


def test_errors_carry_the_request_id_too(client: TestClient) -> None:
    answer = client.post(
        "/v1/triage",
        content=b"{",
        headers={"X-Request-ID": "broken-1", "content-type": "application/json"},
    )
    assert answer.status_code == 400 and answer.headers["x-request-id"] == "broken-1"
    unauthorised = client.get("/v1/stats", headers={"X-API-Key": "nope", "X-Request-ID": "u-1"})
    assert unauthorised.status_code == 401 and unauthorised.headers["x-request-id"] == "u-1"


def test_json_log_lines_carry_the_request_id_and_no_message_text(
    client: TestClient, json_log: io.StringIO
) -> None:
    message = {"text": f"{SECRET_TEXT}, write to {EMAIL}", "channel": "email"}
    headers = {"X-Request-ID": "trace-me-1"}
    assert client.post("/v1/triage", json=message, headers=headers).status_code == 200
    for path in ("/v1/respond", "/v1/suggest"):
        answer = client.post(path, json={"message": message}, headers=headers)
        assert answer.status_code == 200
    answer = client.post(
        "/v1/feedback",
        json={"suggestion_id": "unknown-id", "outcome": "edited", "final_text": SECRET_TEXT},
        headers=headers,
    )
    assert answer.status_code == 404

    records = _records(json_log)
    assert records, "nothing was logged"
    assert all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in records)
    requests = [r for r in records if r["logger"] == "service.requests"]
    assert len(requests) == 4
    assert {r["request_id"] for r in requests} == {"trace-me-1"}
    assert all(r["principal"] == "logging-bot" and r["level"] == "INFO" for r in requests)
    assert requests[0]["message"].startswith("POST /v1/triage 200 ")
    logged = json_log.getvalue()
    assert "Purple elephants" not in logged and EMAIL not in logged


def test_a_logged_e_mail_or_card_is_redacted(json_log: io.StringIO) -> None:
    logging.getLogger("tests.anything").warning(
        "customer %s paid with %s", EMAIL, "4111 1111 1111 1111"
    )
    [record] = [r for r in _records(json_log) if r["logger"] == "tests.anything"]
    assert record["message"] == "customer [email] paid with [card]"


def test_failed_sql_statements_never_show_their_parameters(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'x.db').as_posix()}")
    try:
        with pytest.raises(SQLAlchemyError) as failure, database.engine.begin() as conn:
            conn.execute(text("INSERT INTO no_such_table VALUES (:email)"), {"email": EMAIL})
        assert EMAIL not in str(failure.value)
        assert "hide_parameters" in str(failure.value)
    finally:
        database.close()
