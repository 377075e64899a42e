"""The service database: engine, sessions and Alembic migrations run at startup.

SQLite (a file under ``data_dir``) by default; any SQLAlchemy URL works, PostgreSQL
included. Every wait on the database is bounded (:class:`DatabaseTimeouts`): a database
that stalls costs a request a few seconds and a 503, never a hung worker thread.

Tables are declared on ``Base`` in the module of the feature that owns them
(``service/orders/order_record.py`` for orders); the schema itself only ever changes
through a revision under ``service/migrations/versions/``.
"""

from __future__ import annotations

import fcntl
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from kb_index.kb_tables import KB_METADATA
from models.errors import TriageError, UnavailableError
from service.sqlite_writers import SqliteWriterQueue

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Alembic keeps its running context in module globals: one migration per process at a time.
_IN_PROCESS = threading.Lock()

# Stable constraint names, so later revisions (and batch mode on SQLite) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps the offset; SQLite keeps none and hands back naive datetimes. This
    one column type converts on the way in and out, so no query or row mapper has to.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Stored in UTC (comparisons against SQLite's text timestamps stay correct)."""
        return as_utc(value) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back aware, in UTC."""
        return as_utc(value) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base of every table the service owns."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The knowledge base declares its tables in kb_index (which never imports the service);
# they join the service's metadata here, so migrations and schema checks see one schema.
for _kb_table in KB_METADATA.tables.values():
    _kb_table.to_metadata(Base.metadata)


class DatabaseError(TriageError):
    """The database URL is unusable or the schema cannot be brought up to date."""

    code = "database_error"


class DatabaseUnavailableError(UnavailableError):
    """The database did not answer, or not in time (the same call may succeed later)."""

    code = "database_unavailable"


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long any one wait on the database may take, in seconds.

    ``connect_s`` bounds opening a connection; ``statement_s`` bounds each statement,
    commit and pool ping, on the server (PostgreSQL's ``statement_timeout``) and in the
    client, since a stalled network never delivers the server's cancellation (SQLite: the
    busy timeout); ``pool_s`` bounds the wait for a free pooled connection.
    """

    connect_s: float = 3.0
    statement_s: float = 5.0
    pool_s: float = 2.0


class StallBreaker:
    """Once a wait on the database timed out, fail every wait and connect at once for
    ``open_s`` seconds.

    Without it each step of a request paid the full timeout again (the pool's ping of every
    stale connection, the reconnect, the next statement): respond calls took up to 12 s
    with a 5 s statement timeout. After the window the next call tries the database again.
    """

    def __init__(self, open_s: float) -> None:
        self.open_s = open_s
        self._until = 0.0

    def trip(self) -> None:
        """A wait timed out: the database counts as stalled for ``open_s`` seconds."""
        self._until = time.monotonic() + self.open_s

    def check(self) -> None:
        """Raise ``psycopg.OperationalError`` while the breaker is open."""
        left = self._until - time.monotonic()
        if left > 0:
            raise psycopg.OperationalError(
                f"the database stalled moments ago; not waiting on it for another {left:.1f} s"
            )


class _DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the socket ends after ``io_timeout_s``.

    psycopg waits for the server without limit by default, so a frozen TCP connection hung
    the request thread for good (issue 12: 15 respond calls hung > 150 s). On expiry the
    connection is closed, which SQLAlchemy takes for a disconnect and drops from the pool,
    and ``breaker`` is tripped.
    """

    io_timeout_s: float = DatabaseTimeouts.statement_s
    breaker: StallBreaker | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        """``psycopg.Connection.wait`` with ``io_timeout_s`` as the default timeout."""
        limit = self.io_timeout_s if timeout is None else timeout
        if self.breaker is not None:
            try:
                self.breaker.check()
            except psycopg.OperationalError:
                self.close()  # SQLAlchemy drops a closed connection from the pool
                raise
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except psycopg.errors.OperationalError as exc:
            if type(exc).__name__ != "_WaitTimeout":
                raise
            if self.breaker is not None:
                self.breaker.trip()
            self.close()
            raise psycopg.OperationalError(
                f"no answer from the database within {limit:g} s; connection closed"
            ) from exc


def _postgres_connect_args(url: URL, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        # libpq counts whole seconds and treats less than 2 as 2.
        args["connect_timeout"] = max(2, math.ceil(timeouts.connect_s))
    options = url.query.get("options")
    # The server cancels a slow statement a little before the client stops waiting: a
    # database that answers gets a clean cancellation (the connection stays usable and
    # the stall breaker stays closed); only a stalled one reaches the client deadline.
    server_s = max(timeouts.statement_s - 0.5, timeouts.statement_s / 2)
    statement = f"-c statement_timeout={int(server_s * 1000)}"
    args["options"] = f"{options} {statement}" if isinstance(options, str) else statement
    return args


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # Alembic's ini interpolation treats % specially.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise DatabaseError(f"no migrations found under {MIGRATIONS_DIR}")
    return head


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Requests run in a threadpool: wait for a writer instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    # Write-ahead log: readers never wait for the writer and a commit appends instead of
    # rewriting pages; at 32 concurrent /v1/respond calls the default rollback journal
    # made writers time out (503). NORMAL sync is durable in WAL mode except on power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """One engine and session factory for the process.

    Construction only parses the URL and builds the (lazy) engine; ``migrate()``
    connects and brings the schema to the newest revision.
    """

    def __init__(
        self, url: str, *, echo: bool = False, timeouts: DatabaseTimeouts | None = None
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DatabaseError(f"database URL {url!r} is not a SQLAlchemy URL ({exc})") from exc
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.url = parsed
        self.timeouts = timeouts or DatabaseTimeouts()
        self._breaker = StallBreaker(self.timeouts.statement_s)
        psycopg_driver = self.dialect == "postgresql" and parsed.get_driver_name() == "psycopg"
        connect_args = (
            _postgres_connect_args(parsed, self.timeouts)
            if psycopg_driver
            else {"timeout": self.timeouts.statement_s}
            if self.dialect == "sqlite"
            else {}
        )
        self.engine: Engine = create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            pool_timeout=self.timeouts.pool_s,
            # A failed statement's message must not carry its parameters (e-mail addresses,
            # message text) into logs and error chains.
            hide_parameters=True,
            connect_args=connect_args,
        )
        if psycopg_driver:
            event.listen(self.engine, "do_connect", self._connect_with_deadline)
        if self.dialect == "sqlite":
            busy_ms = int(self.timeouts.statement_s * 1000)
            event.listen(
                self.engine, "connect", lambda conn, _record: _sqlite_pragmas(conn, busy_ms)
            )
        #: SQLite writers take turns in arrival order (``service/sqlite_writers.py``).
        self.sqlite_writers = (
            SqliteWriterQueue(self.engine, wait_s=self.timeouts.statement_s)
            if self.dialect == "sqlite"
            else None
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _connect_with_deadline(
        self, dialect: Dialect, record: Any, cargs: Any, cparams: dict[str, Any]
    ) -> _DeadlineConnection:
        self._breaker.check()
        try:
            connection = _DeadlineConnection.connect(*cargs, **cparams)
        except psycopg.errors.ConnectionTimeout:
            self._breaker.trip()
            raise
        connection.io_timeout_s = self.timeouts.statement_s
        connection.breaker = self._breaker
        return connection

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql``, ..."""
        return self.url.get_backend_name()

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for logs."""
        return self.url.render_as_string(hide_password=True)

    def session(self) -> Session:
        """A new session; use as ``with db.session() as s, s.begin(): ...``."""
        return self._sessions()

    def migrate(self) -> str:
        """Upgrade the schema to the newest revision; returns that revision.

        Safe when several workers start at once: PostgreSQL serialises on an advisory
        lock (see ``migrations/env.py``), a SQLite file on a lock file next to it.
        """
        config = alembic_config()
        try:
            with _IN_PROCESS, self._sqlite_file_lock(), self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except TriageError:
            raise
        except Exception as exc:
            raise DatabaseError(
                f"cannot migrate database {self.display_url} to the newest schema: {exc}"
            ) from exc
        revision = self.current_revision()
        logger.info("database %s at revision %s", self.display_url, revision)
        return revision or "none"

    @contextmanager
    def _sqlite_file_lock(self) -> Iterator[None]:
        database = self.url.database
        if self.dialect != "sqlite" or database in (None, "", ":memory:"):
            yield
            return
        with Path(f"{database}.migrate-lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def current_revision(self) -> str | None:
        """The revision the database is at (``None`` before the first migration)."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def ping(self) -> None:
        """Run ``SELECT 1`` (bounded by the timeouts).

        Raises:
            DatabaseUnavailableError: the database refused, failed or did not answer.
        """
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise DatabaseUnavailableError(
                f"the database does not answer ({exc.__class__.__name__})"
            ) from exc

    def close(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
