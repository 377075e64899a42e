"""Alembic migrations of the service database (run at startup by ``Database.migrate``)."""
