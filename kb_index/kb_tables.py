"""The knowledge base's tables: documents, their revisions, stored chunk vectors, one version
row, and the collection's fusion weights.

Declared with SQLAlchemy Core on a metadata of their own, because ``kb_index`` never
imports the service (whose declarative ``Base`` holds the other tables); the schema is
created by the service's Alembic revision ``0004`` like every other table.

- ``kb_state`` has one row: ``version`` grows by one with every committed write. A writer
  updates it first, so the row lock (PostgreSQL) or the write lock (SQLite) orders
  writers, and versions become visible in commit order: a follower that has seen version
  ``v`` has seen every write numbered ``<= v``.
- ``kb_revisions`` is the history (who, when, what); ``version`` says which write made it.
- ``kb_documents`` holds the current content; ``kb_chunks`` its chunks with their vectors,
  so a worker joining later loads vectors instead of re-encoding every article.
- ``kb_fusion`` is the history of the collection's fusion weights (revision ``0006``): the
  newest row is in force. Recording one is a write like any other (it bumps ``version``),
  so every worker's follower picks it up the way it picks up documents.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

#: Same constraint naming as the service's tables (``service/database.py``).
KB_METADATA = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: The id of the one ``kb_state`` row.
STATE_ROW = 1

kb_state = Table(
    "kb_state",
    KB_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    # Files on disk (sample help centre, an older index folder) are imported once.
    Column("seeded", Boolean, nullable=False),
)

kb_documents = Table(
    "kb_documents",
    KB_METADATA,
    Column("doc_id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("url", Text, nullable=True),
    Column("tags", JSON, nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("source", String(200), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=True),
)

kb_revisions = Table(
    "kb_revisions",
    KB_METADATA,
    Column("doc_id", String(200), primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("content", JSON, nullable=True),
    Column("content_hash", String(64), nullable=True),
    Column("actor", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("restored_from", Integer, nullable=True),
    Index("ix_kb_revisions_version", "version"),
)

kb_chunks = Table(
    "kb_chunks",
    KB_METADATA,
    Column("doc_id", String(200), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("content_hash", String(64), nullable=False),
    # Which vectors these are: encoder weights, numeric family and dimension.
    Column("vector_key", String(300), nullable=False),
    Column("chunk", JSON, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

kb_fusion = Table(
    "kb_fusion",
    KB_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", BigInteger, nullable=False),
    Column("fusion", JSON, nullable=False),
    Column("source", String(16), nullable=False),
    # The development queries (name, count, sha256) and the figures measured on them.
    Column("queries", JSON, nullable=True),
    Column("figures", JSON, nullable=False),
    Column("baseline", String(16), nullable=True),
    Column("encoder", String(300), nullable=True),
    Column("actor", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_kb_fusion_version", "version"),
)
