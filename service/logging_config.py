"""Logging: one JSON object per line (or plain text), each carrying the request id and the
API key name of the request it belongs to, with personal data redacted.

Message text from customers is never logged at INFO (the house rule); the redaction filter
is the second line of defence for anything that slips into a log message or an exception
(e-mail, phone, card, IBAN become placeholders). SQL parameters never reach a log: the
engine is built with ``hide_parameters=True`` (``service/database.py``).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Literal

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


def logging_config(
    level: str = "info", *, fmt: LogFormat = "json", stream: Any = "ext://sys.stderr"
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service and uvicorn (pass it as uvicorn's
    ``log_config`` so every worker uses it)."""
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
        "class": "logging.StreamHandler",
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
