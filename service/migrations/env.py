"""Alembic environment: runs on the service's connection, or on TRIAGE_DATABASE_URL from the CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

# Every module declaring tables is imported here, so autogenerate sees the whole schema.
import service.auth.api_key_record
import service.feedback.feedback_records
import service.jobs.job_record
import service.messages.message_record
import service.orders.order_record  # noqa: F401
from service.database import Base
from service.settings import Settings

# Arbitrary constant: serialises concurrent migrations (several workers starting at once).
_PG_MIGRATION_LOCK = 0x74726961

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    return Settings().resolved_database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        context.run_migrations()


def run_offline() -> None:
    """Emit SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run on the connection the service passed in, or on a fresh one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
