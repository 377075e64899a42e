"""How a worker learns that another worker changed the knowledge base.

``ChangeWaiter.wait`` returns when a change may have happened or the timeout passed; the
follower then asks the database for the version either way, so a lost notification costs
at most one poll interval. PostgreSQL: ``LISTEN`` on the channel the writers ``NOTIFY``
(a write is seen in milliseconds; the poll is the fallback). Anything else (SQLite, one
host): polling the version row, which is one primary-key read.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import psycopg
from sqlalchemy import Engine

from kb_index.kb_document_store import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)


class ChangeWaiter(Protocol):
    """Blocks until a change may have happened."""

    name: str

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds; ``True`` when a change was announced."""
        ...

    def close(self) -> None:
        """Release connections (called by the thread that waits)."""
        ...


class PollingWaiter:
    """No announcements: every wait lasts the full timeout (the follower then polls)."""

    name = "poll"

    def __init__(self) -> None:
        self._closed = threading.Event()

    def wait(self, timeout: float) -> bool:
        """Sleep ``timeout`` seconds (or until closed)."""
        self._closed.wait(timeout)
        return False

    def close(self) -> None:
        """Stop sleeping."""
        self._closed.set()


class PgNotifyWaiter:
    """PostgreSQL ``LISTEN``; reconnects on the next wait after a lost connection.

    Args:
        conninfo: a libpq connection string or URL.
        channel: the channel writers notify.
    """

    name = "listen"

    def __init__(self, conninfo: str, *, channel: str = NOTIFY_CHANNEL) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._conn: psycopg.Connection[Any] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {self._channel}")
        return conn

    def wait(self, timeout: float) -> bool:
        """Return on the first notification or after ``timeout`` seconds."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error as exc:
            logger.warning("kb change listener lost its connection (%s); polling", exc)
            self.close()
            threading.Event().wait(timeout)
            return False

    def close(self) -> None:
        """Close the listening connection."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def build_change_waiter(engine: Engine) -> ChangeWaiter:
    """``LISTEN`` on PostgreSQL, polling elsewhere."""
    if engine.dialect.name == "postgresql":
        url = engine.url.set(drivername="postgresql")
        return PgNotifyWaiter(url.render_as_string(hide_password=False))
    return PollingWaiter()
