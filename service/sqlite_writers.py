"""SQLite writers take turns in arrival order inside the process.

SQLite lets one connection write at a time; the others sleep in its busy handler and poll
again after 1, 2, 5, ... up to 100 ms. Under 32 concurrent ``/v1/respond`` calls (each stores
its decision and drafts) that polling let newcomers overtake writers that had waited long:
storing took p50 245 ms but p99 2.8 s and up to 4.6 s, and one request hit the 5 s busy
timeout (503). Queued here instead, a writer waits only for those before it.

A connection joins the queue at its first write statement, the moment SQLite's own write
lock would be taken (the sqlite3 module begins a transaction just before the first
INSERT/UPDATE/DELETE), and leaves it when the transaction ends or the connection goes back
to the pool. A turn not given within the busy timeout is not waited for: the connection
falls back to SQLite's busy handler, as before. One process only: with several processes
SQLite's busy handler is what orders them (the service runs one worker on SQLite).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from models.arrival_order_lanes import ArrivalOrderLanes

logger = logging.getLogger(__name__)

_TURN = "triage_sqlite_write_turn"
_WRITES = ("insert", "update", "delete", "replace")


def is_write(statement: str) -> bool:
    """Whether a statement takes SQLite's write lock in a transaction (DML)."""
    return statement.lstrip()[:7].lower().startswith(_WRITES)


class SqliteWriterQueue:
    """One turn to write at a time, handed out in arrival order (see the module docstring).

    Args:
        engine: a SQLite engine; the queue attaches itself to its events.
        wait_s: how long a writer waits for its turn before falling back to SQLite's own
            busy handling (the busy timeout).
    """

    def __init__(self, engine: Engine, *, wait_s: float) -> None:
        self.wait_s = wait_s
        self._turn = ArrivalOrderLanes(1)
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        event.listen(engine.pool, "checkin", self._checkin)
        event.listen(engine.pool, "invalidate", self._invalidate)

    def _before_execute(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if _TURN in conn.info or not is_write(statement):
            return
        got = self._turn.acquire(timeout=self.wait_s)
        if not got:
            logger.warning(
                "no SQLite write turn within %.1f s; using the busy timeout", self.wait_s
            )
        conn.info[_TURN] = got

    def _give_back(self, info: dict[Any, Any]) -> None:
        if info.pop(_TURN, False):
            self._turn.release()

    def _end(self, conn: Connection) -> None:
        self._give_back(conn.info)

    def _checkin(self, dbapi_connection: Any, record: Any) -> None:
        self._give_back(record.info)

    def _invalidate(self, dbapi_connection: Any, record: Any, exception: Any) -> None:
        self._give_back(record.info)
