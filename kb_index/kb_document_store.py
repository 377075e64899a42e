"""The database side of the knowledge base: documents, revisions, chunk vectors, version,
and the collection's fusion weights.

Every write is one transaction that first bumps the version row (so writers queue on it
and versions are committed in order), then records a revision per changed document,
replaces the document row and its chunk rows, and on PostgreSQL sends ``NOTIFY`` (which
is delivered at commit). A write that changes nothing is rolled back and leaves the
version alone. Readers (the followers in every worker) ask which documents changed after
the version they have and load just those, with their stored vectors. Recording fusion
weights is a write of the same kind (a new version, ``NOTIFY``), so followers switch to
them without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from kb_index.dense_retriever import FloatArray
from kb_index.documents import Chunk, KbDocument
from kb_index.fusion_choice import FusionChoice
from kb_index.kb_tables import (
    STATE_ROW,
    kb_chunks,
    kb_documents,
    kb_fusion,
    kb_revisions,
    kb_state,
)
from models.errors import InvalidInputError, NotFoundError, UnavailableError

logger = logging.getLogger(__name__)

#: PostgreSQL channel the writers notify and the followers listen on.
NOTIFY_CHANNEL = "triage_kb_changes"

RevisionAction = Literal["put", "delete", "restore", "import"]


@dataclass(frozen=True)
class DocumentChange:
    """One document to write: ``document`` with its chunks and their vectors, or
    ``document=None`` to delete ``doc_id``."""

    doc_id: str
    document: KbDocument | None
    chunks: Sequence[Chunk] = ()
    vectors: FloatArray | None = None
    restored_from: int | None = None


@dataclass(frozen=True)
class WriteOutcome:
    """What a write changed; ``version`` is the knowledge-base version after it."""

    version: int
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored, with its chunks and vectors (``vector_key`` says whose)."""

    document: KbDocument
    revision: int
    chunks: tuple[Chunk, ...]
    vectors: FloatArray
    vector_key: str | None


@dataclass(frozen=True)
class KbRevision:
    """One entry of a document's history; ``document`` is ``None`` for a deletion."""

    doc_id: str
    revision: int
    version: int
    action: str
    actor: str | None
    at: datetime
    document: KbDocument | None
    restored_from: int | None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _NothingChangedError(Exception):
    """Internal: roll the write back, it changes nothing."""


class KbDocumentStore:
    """Reads and writes the ``kb_*`` tables on ``engine`` (SQLite or PostgreSQL).

    Database failures surface as ``UnavailableError`` (503 with ``Retry-After``): nothing
    was written and the same request may succeed later.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite``, ``postgresql``, ..."""
        return self.engine.dialect.name

    @contextmanager
    def _connection(self, what: str) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            # The exception type only: its text may quote SQL parameters (document text).
            logger.warning("knowledge-base database error while %s: %s", what, type(exc).__name__)
            raise UnavailableError(
                f"the knowledge-base database is unavailable ({what}); nothing was written"
            ) from exc

    # -- reading -----------------------------------------------------------------------

    def version(self) -> int:
        """The version of the newest committed write (0 before any)."""
        with self._connection("reading the version") as conn:
            value = conn.execute(
                select(kb_state.c.version).where(kb_state.c.id == STATE_ROW)
            ).scalar_one()
        return int(value)

    def is_seeded(self) -> bool:
        """Whether the files on disk were imported already (or found nothing to import)."""
        with self._connection("reading the version") as conn:
            return bool(
                conn.execute(
                    select(kb_state.c.seeded).where(kb_state.c.id == STATE_ROW)
                ).scalar_one()
            )

    def changed_since(self, version: int) -> tuple[int, list[str]]:
        """The current version and the ids of documents written after ``version``.

        The version is read first: anything committed later is also returned at worst
        (and applied twice, which is harmless), never missed.
        """
        with self._connection("reading changes") as conn, conn.begin():
            current = int(
                conn.execute(
                    select(kb_state.c.version).where(kb_state.c.id == STATE_ROW)
                ).scalar_one()
            )
            if current <= version:
                return current, []
            ids = conn.execute(
                select(kb_revisions.c.doc_id).where(kb_revisions.c.version > version).distinct()
            ).scalars()
            return current, sorted(ids)

    def load(self, doc_ids: Sequence[str] | None = None) -> dict[str, StoredDocument]:
        """Current documents (all of them when ``doc_ids`` is ``None``) with their chunks;
        an id without a document row (deleted) is simply absent."""
        documents: dict[str, tuple[KbDocument, int]] = {}
        chunk_rows: dict[str, list[Any]] = {}
        with self._connection("loading documents") as conn, conn.begin():
            query = select(kb_documents)
            chunk_query = select(kb_chunks).order_by(kb_chunks.c.doc_id, kb_chunks.c.position)
            if doc_ids is not None:
                if not doc_ids:
                    return {}
                query = query.where(kb_documents.c.doc_id.in_(list(doc_ids)))
                chunk_query = chunk_query.where(kb_chunks.c.doc_id.in_(list(doc_ids)))
            for row in conn.execute(query):
                documents[row.doc_id] = (_document(row._mapping), row.revision)
            for row in conn.execute(chunk_query):
                chunk_rows.setdefault(row.doc_id, []).append(row)
        out: dict[str, StoredDocument] = {}
        for doc_id, (document, revision) in documents.items():
            rows = [
                r for r in chunk_rows.get(doc_id, []) if r.content_hash == document.content_hash
            ]
            keys = {r.vector_key for r in rows}
            if rows and len(keys) == 1:
                vectors = np.stack([np.frombuffer(r.vector, dtype=np.float32) for r in rows])
                chunks = tuple(Chunk.from_json(r.chunk) for r in rows)
                key: str | None = keys.pop()
            else:
                vectors, chunks, key = np.zeros((0, 0), dtype=np.float32), (), None
            out[doc_id] = StoredDocument(document, revision, chunks, vectors, key)
        return out

    def fusion_since(self, version: int) -> FusionChoice | None:
        """The fusion weights in force if they were recorded after ``version``, else
        ``None`` (nothing new to apply); ``fusion_since(0)`` is the current choice."""
        with self._connection("reading the fusion weights") as conn:
            row = conn.execute(
                select(kb_fusion)
                .where(kb_fusion.c.version > version)
                .order_by(kb_fusion.c.id.desc())
                .limit(1)
            ).first()
        return _fusion(row._mapping) if row is not None else None

    def fusion_history(self) -> list[FusionChoice]:
        """Every fusion choice recorded, oldest first."""
        with self._connection("reading the fusion weights") as conn:
            rows = conn.execute(select(kb_fusion).order_by(kb_fusion.c.id)).all()
        return [_fusion(r._mapping) for r in rows]

    def history(self, doc_id: str) -> list[KbRevision]:
        """Every revision of ``doc_id``, oldest first; ``NotFoundError`` if it never existed."""
        with self._connection("reading history") as conn:
            rows = conn.execute(
                select(kb_revisions)
                .where(kb_revisions.c.doc_id == doc_id)
                .order_by(kb_revisions.c.revision)
            ).all()
        if not rows:
            raise NotFoundError(f"no knowledge-base document with id {doc_id!r} (ever)")
        return [_revision(r._mapping) for r in rows]

    def revision(self, doc_id: str, revision: int) -> KbRevision:
        """One revision of a document; ``NotFoundError`` if there is no such revision."""
        with self._connection("reading history") as conn:
            row = conn.execute(
                select(kb_revisions).where(
                    kb_revisions.c.doc_id == doc_id, kb_revisions.c.revision == revision
                )
            ).first()
        if row is None:
            raise NotFoundError(f"document {doc_id!r} has no revision {revision}")
        return _revision(row._mapping)

    # -- writing -----------------------------------------------------------------------

    def write(
        self,
        changes: Sequence[DocumentChange],
        *,
        actor: str | None,
        action: RevisionAction,
        vector_key: str,
        seeding: bool = False,
        fusion: FusionChoice | None = None,
    ) -> WriteOutcome:
        """Apply ``changes`` in one transaction; durable when this returns.

        Args:
            actor: who writes (an API key's name), kept in the history.
            action: recorded per revision (``put``; ``restore``; ``import`` for files).
            vector_key: identifies the encoder that made the vectors.
            seeding: the one-time import of files; it does nothing (and writes nothing)
                when another worker imported already, and marks the import done.
            fusion: weights recorded with the files (seeding), written in the same
                transaction so no worker sees the documents without them.

        Raises:
            NotFoundError: a deleted id has no document (nothing is written).
            UnavailableError: the database failed (nothing is written).
        """
        ids = [c.doc_id for c in changes]
        if len(set(ids)) != len(ids):
            raise InvalidInputError("id: a document appears twice in one write")
        now = datetime.now(UTC)
        added: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        deleted: list[str] = []
        try:
            with self._connection("writing documents") as conn, conn.begin():
                version, seeded = _next_version(conn)
                if seeding:
                    if seeded:
                        raise _NothingChangedError
                    conn.execute(
                        update(kb_state).where(kb_state.c.id == STATE_ROW).values(seeded=True)
                    )
                for change in changes:
                    outcome = self._write_one(
                        conn,
                        change,
                        version=version,
                        actor=actor,
                        action=action,
                        vector_key=vector_key,
                        now=now,
                    )
                    {
                        "added": added,
                        "updated": updated,
                        "unchanged": unchanged,
                        "deleted": deleted,
                    }[outcome].append(change.doc_id)
                if not (added or updated or deleted or seeding):
                    raise _NothingChangedError
                if fusion is not None:
                    _insert_fusion(conn, fusion, version=version, now=now)
                self._notify(conn, version)
        except _NothingChangedError:
            return WriteOutcome(version=self.version(), unchanged=tuple(unchanged))
        return WriteOutcome(
            version=version,
            added=tuple(added),
            updated=tuple(updated),
            unchanged=tuple(unchanged),
            deleted=tuple(deleted),
        )

    def _write_one(
        self,
        conn: Connection,
        change: DocumentChange,
        *,
        version: int,
        actor: str | None,
        action: RevisionAction,
        vector_key: str,
        now: datetime,
    ) -> str:
        current = conn.execute(
            select(kb_documents.c.content_hash).where(kb_documents.c.doc_id == change.doc_id)
        ).first()
        document = change.document
        if document is None:
            if current is None:
                raise NotFoundError(f"no knowledge-base document with id {change.doc_id!r}")
        elif current is not None and current.content_hash == document.content_hash:
            return "unchanged"
        last = conn.execute(
            select(func.max(kb_revisions.c.revision)).where(kb_revisions.c.doc_id == change.doc_id)
        ).scalar()
        revision = int(last or 0) + 1
        conn.execute(
            insert(kb_revisions).values(
                doc_id=change.doc_id,
                revision=revision,
                version=version,
                action="delete" if document is None else action,
                content=document.to_json() if document is not None else None,
                content_hash=document.content_hash if document is not None else None,
                actor=actor,
                created_at=now,
                restored_from=change.restored_from,
            )
        )
        conn.execute(delete(kb_chunks).where(kb_chunks.c.doc_id == change.doc_id))
        conn.execute(delete(kb_documents).where(kb_documents.c.doc_id == change.doc_id))
        if document is None:
            return "deleted"
        conn.execute(
            insert(kb_documents).values(
                doc_id=document.id,
                title=document.title,
                text=document.text,
                url=document.url,
                tags=list(document.tags),
                visibility=document.visibility,
                source=document.source,
                content_hash=document.content_hash,
                revision=revision,
                updated_at=now,
                updated_by=actor,
            )
        )
        vectors = change.vectors
        if change.chunks:
            if vectors is None or len(vectors) != len(change.chunks):
                raise InvalidInputError(f"document {document.id!r}: one vector per chunk needed")
            conn.execute(
                insert(kb_chunks),
                [
                    {
                        "doc_id": document.id,
                        "position": position,
                        "content_hash": document.content_hash,
                        "vector_key": vector_key,
                        "chunk": chunk.to_json(),
                        "vector": np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                    }
                    for position, (chunk, vector) in enumerate(
                        zip(change.chunks, vectors, strict=True)
                    )
                ],
            )
        return "added" if current is None else "updated"

    def record_fusion(self, choice: FusionChoice) -> int:
        """Put ``choice`` in force for every worker (one transaction, a new version, which
        the followers apply like a document write); returns that version."""
        with self._connection("recording the fusion weights") as conn, conn.begin():
            version, _ = _next_version(conn)
            _insert_fusion(conn, choice, version=version, now=datetime.now(UTC))
            self._notify(conn, version)
        return version

    def _notify(self, conn: Connection, version: int) -> None:
        """Wake the followers on PostgreSQL (delivered at commit); others poll."""
        if self.dialect == "postgresql":
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": NOTIFY_CHANNEL, "payload": str(version)},
            )

    def store_vectors(
        self,
        doc_id: str,
        content_hash: str,
        chunks: Sequence[Chunk],
        vectors: FloatArray,
        *,
        vector_key: str,
    ) -> bool:
        """Replace the stored chunks of ``doc_id`` (re-embedding), if its content is still
        ``content_hash``; no new revision or version (the content did not change)."""
        with self._connection("storing vectors") as conn, conn.begin():
            current = conn.execute(
                select(kb_documents.c.content_hash)
                .where(kb_documents.c.doc_id == doc_id)
                .with_for_update()
            ).scalar()
            if current != content_hash:
                return False
            conn.execute(delete(kb_chunks).where(kb_chunks.c.doc_id == doc_id))
            conn.execute(
                insert(kb_chunks),
                [
                    {
                        "doc_id": doc_id,
                        "position": position,
                        "content_hash": content_hash,
                        "vector_key": vector_key,
                        "chunk": chunk.to_json(),
                        "vector": np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                    }
                    for position, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
                ],
            )
        return True


def _next_version(conn: Connection) -> tuple[int, bool]:
    """Bump the version; returns it and the ``seeded`` flag.

    The first statement of every write: it takes the row lock (PostgreSQL) / write lock
    (SQLite) every writer queues on, so versions commit in order.
    """
    version, seeded = conn.execute(
        update(kb_state)
        .where(kb_state.c.id == STATE_ROW)
        .values(version=kb_state.c.version + 1)
        .returning(kb_state.c.version, kb_state.c.seeded)
    ).one()
    return int(version), bool(seeded)


def _insert_fusion(conn: Connection, choice: FusionChoice, *, version: int, now: datetime) -> None:
    raw = choice.to_json()
    conn.execute(
        insert(kb_fusion).values(
            version=version,
            fusion=raw["fusion"],
            source=choice.source,
            queries=raw["queries"],
            figures=raw["figures"],
            baseline=choice.baseline,
            encoder=choice.encoder,
            actor=choice.actor,
            created_at=choice.at or now,
        )
    )


def _fusion(row: Any) -> FusionChoice:
    choice = FusionChoice.from_json(
        {
            "fusion": row["fusion"],
            "source": row["source"],
            "queries": row["queries"],
            "figures": row["figures"],
            "baseline": row["baseline"],
            "encoder": row["encoder"],
            "actor": row["actor"],
        }
    )
    return replace(choice, at=_utc(row["created_at"]), version=int(row["version"]))


def _document(row: Any) -> KbDocument:
    return KbDocument(
        id=row["doc_id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        tags=tuple(row["tags"] or ()),
        visibility=row["visibility"],
        source=row["source"],
    )


def _revision(row: Any) -> KbRevision:
    content = row["content"]
    return KbRevision(
        doc_id=row["doc_id"],
        revision=int(row["revision"]),
        version=int(row["version"]),
        action=row["action"],
        actor=row["actor"],
        at=_utc(row["created_at"]),
        document=KbDocument.from_json(content) if content is not None else None,
        restored_from=row["restored_from"],
    )
