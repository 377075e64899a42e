"""The background log handler (``triage serve``) writes exactly what the plain handler
writes, with the caller's request id, in order; ``flush`` and ``close`` wait for it."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest

from service.logging_config import BackgroundStreamHandler, logging_config, request_id_var


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _log_some(buffer: io.StringIO, *, background: bool) -> list[dict[str, Any]]:
    logging.config.dictConfig(
        logging_config("info", fmt="json", stream=buffer, background=background)
    )
    token = request_id_var.set("req-7")
    try:
        log = logging.getLogger("service.requests")
        log.info("%s %s %s %.1f ms", "POST", "/v1/triage", 200, 12.34, extra={"principal": "bot"})
        changing = ["before"]
        log.warning("customer %s wrote %s", "jane@example.com", changing)
        changing.append("after")  # the line shows the arguments as they were when logged
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed for %s", "+44 20 7946 0958")
    finally:
        request_id_var.reset(token)
    for handler in logging.getLogger().handlers:
        handler.flush()
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    for record in records:
        record.pop("time")
    return records


@pytest.mark.usefixtures("restore_logging")
def test_background_lines_are_the_plain_handlers_lines() -> None:
    plain = _log_some(io.StringIO(), background=False)
    background = _log_some(io.StringIO(), background=True)
    assert isinstance(logging.getLogger().handlers[0], BackgroundStreamHandler)
    assert background == plain and len(plain) == 3
    assert {r["request_id"] for r in background} == {"req-7"}
    assert background[1]["message"] == "customer [email] wrote ['before']"
    assert "ValueError: boom" in background[2]["exc_info"]


def test_close_writes_everything_queued_in_order() -> None:
    buffer = io.StringIO()
    handler = BackgroundStreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.Logger("background-test")
    log.addHandler(handler)
    for i in range(500):
        log.info("line %d", i)
    handler.close()
    assert buffer.getvalue().splitlines() == [f"line {i}" for i in range(500)]
