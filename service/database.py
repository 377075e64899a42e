"""The service database: engine, sessions and Alembic migrations run at startup.

SQLite (a file under ``data_dir``) by default; any SQLAlchemy URL works, PostgreSQL
included. Tables are declared on ``Base`` in the module of the feature that owns them
(``service/orders/order_record.py`` for orders); the schema itself only ever changes
through a revision under ``service/migrations/versions/``.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, Dialect, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from kb_index.kb_tables import KB_METADATA
from models.errors import TriageError

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


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Requests run in a threadpool: wait for a writer instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=5000")
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

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DatabaseError(f"database URL {url!r} is not a SQLAlchemy URL ({exc})") from exc
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.url = parsed
        # hide_parameters: a failed statement's message (logged, or in a trace) must not
        # carry the customer data it was writing.
        self.engine: Engine = create_engine(
            parsed, echo=echo, pool_pre_ping=True, hide_parameters=True
        )
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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

    def close(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
