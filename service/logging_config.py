"""Logging: one JSON object per line (or plain text), each carrying the request id and the
API key name of the request it belongs to, with personal data redacted.

Message text from customers is never logged at INFO (the house rule); the redaction filter
is the second line of defence for anything that slips into a log message or an exception
(e-mail, phone, card, IBAN become placeholders). SQL parameters never reach a log: the
engine is built with ``hide_parameters=True`` (``service/database.py``).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from contextvars import ContextVar
from typing import IO, Any, Literal

from service.privacy.redaction import redact

LogFormat = Literal["json", "text"]

#: The id of the request being served (``-`` outside requests); set by
#: ``service/request_context.py``, read by every log record.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` (and ``principal``, ``-`` unless the request log set it) to every
    record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "principal"):
            record.principal = "-"
        return True


class RedactionFilter(logging.Filter):
    """Replaces e-mail, phone, card and IBAN in the rendered message and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the (redacted) record."""
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class BackgroundStreamHandler(logging.StreamHandler[IO[str]]):
    """A ``StreamHandler`` that formats and writes its records in a thread of its own.

    The request log line is written on the event loop, and writing to a stream releases the
    GIL for the system call: taking it back behind the pipeline threads kept the loop from
    serving anyone for about a millisecond per request under load (README "Performance").
    Here the caller runs the handler's filters (the request id is read from its context) and
    renders the message, then queues the record; a daemon thread formats and writes the
    records in order, several at once under load. ``flush`` returns once what was queued
    before it is written; ``close`` (``logging.shutdown`` at exit, or a new logging config)
    writes the rest first.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self._queue: queue.SimpleQueue[logging.LogRecord | threading.Event | None] = (
            queue.SimpleQueue()
        )
        self._writer: threading.Thread | None = None

    #: Seconds the thread waits after the first queued record for more to write at once.
    LINGER_S = 0.01

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record (its message rendered now: arguments may change later)."""
        try:
            if record.args:
                record.msg, record.args = record.getMessage(), None
        except Exception:
            self.handleError(record)
            return
        if self._writer is None or not self._writer.is_alive():  # first record, or forked
            self._writer = threading.Thread(
                target=self._write_queued, name="log-writer", daemon=True
            )
            self._writer.start()
        self._queue.put(record)

    def _write_queued(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Lines that arrive meanwhile are written together, and queueing them wakes
            # nobody: under load the caller never pays for waking this thread.
            time.sleep(self.LINGER_S)
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if not self._write(batch):
                return

    def _write(self, batch: list[logging.LogRecord | threading.Event | None]) -> bool:
        """Write the records in order, setting each flush marker once what precedes it is
        written; ``False`` when the batch holds the stop sentinel."""
        lines: list[str] = []
        stop = False
        for item in batch:
            if isinstance(item, logging.LogRecord):
                try:
                    lines.append(self.format(item) + self.terminator)
                except Exception:
                    self.handleError(item)
                continue
            self._write_lines(lines)
            lines = []
            if item is None:
                stop = True
            else:
                item.set()
        self._write_lines(lines)
        return not stop

    def _write_lines(self, lines: list[str]) -> None:
        # Not under the handler's lock: a caller queueing a record must never wait for a
        # write. This thread is the only one writing to the stream.
        if not lines:
            return
        try:
            self.stream.write("".join(lines))
            self.stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": lines[0]}))

    def flush(self) -> None:
        """Wait (up to 5 s) until the records queued so far are written; flush the stream."""
        writer = self._writer
        if writer is not None and writer.is_alive() and writer is not threading.current_thread():
            written = threading.Event()
            self._queue.put(written)
            written.wait(timeout=5.0)
        super().flush()

    def close(self) -> None:
        """Write what is queued, stop the thread, then close as a ``StreamHandler`` does."""
        writer = self._writer
        if writer is not None and writer.is_alive():
            self._queue.put(None)
            writer.join(timeout=5.0)
        self._writer = None
        super().close()


def logging_config(
    level: str = "info",
    *,
    fmt: LogFormat = "json",
    stream: Any = "ext://sys.stderr",
    background: bool = False,
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service and uvicorn (pass it as uvicorn's
    ``log_config`` so every worker uses it).

    Args:
        level: the root level (and the handler's).
        fmt: one JSON object per line, or plain text.
        stream: where lines go.
        background: format and write in a thread of the handler's own
            (``BackgroundStreamHandler``; ``triage serve``), not in the thread that logs.
    """
    formatters: dict[str, Any] = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(principal)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    }
    handler = {
        "class": f"{__name__}.BackgroundStreamHandler" if background else "logging.StreamHandler",
        # On the handler too: some libraries set DEBUG on their own loggers.
        "level": level.upper(),
        "formatter": fmt,
        "filters": ["context", "redaction"],
        "stream": stream,
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": RequestContextFilter},
            "redaction": {"()": RedactionFilter},
        },
        "formatters": {fmt: formatters[fmt]},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        # uvicorn's own handlers are replaced by ours; its access log is replaced by the
        # request log of service/request_context.py (with the request id and duration).
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
