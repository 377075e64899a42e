"""A knowledge base whose documents live in the database, shared by every worker.

The database is the source of truth (``KbDocumentStore``): a write commits there first
and answers once it is durable. Each worker keeps its own in-memory index (the
``KnowledgeBase`` snapshot it inherits its reads from) and follows the database version
(``KbFollower``): it loads only the documents written since its version, with their
stored vectors, and applies them to its snapshot incrementally. Two workers writing at
once therefore never overwrite each other: each write is its own transaction, and every
index applies every write. The collection's fusion weights are followed the same way:
the newest recorded choice is what every worker searches with.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from kb_index.chunker import Chunker
from kb_index.dense_retriever import DenseConfig, FloatArray
from kb_index.documents import Chunk, IngestReport, KbDocument
from kb_index.fusion_choice import FusionChoice
from kb_index.hybrid_retriever import FusionConfig
from kb_index.kb_change_waiter import ChangeWaiter, build_change_waiter
from kb_index.kb_document_store import (
    DocumentChange,
    KbDocumentStore,
    KbRevision,
    RevisionAction,
    StoredDocument,
    WriteOutcome,
)
from kb_index.kb_follower import POLL_INTERVAL_S, KbFollower
from kb_index.knowledge_base import KnowledgeBase, ProgressCallback
from models.artifact_manifest import embedding_family, weights_id
from models.errors import InvalidInputError, UnavailableError
from models.protocols import Encoder

logger = logging.getLogger(__name__)


def vector_key(encoder: Encoder) -> str:
    """Which vectors ``encoder`` gives: weights, numeric family and dimension (PyTorch and
    ONNX fp32 share vectors; int8 does not; ``models.artifact_manifest``)."""
    model_id = encoder.model_id
    return f"{weights_id(model_id)}|{embedding_family(model_id)}|{encoder.dimension}"


class SharedKnowledgeBase(KnowledgeBase):
    """Database-backed documents with history, and a local index following them.

    Args:
        encoder: embeds chunks (of documents without usable stored vectors) and queries.
        store: the database tables.
    """

    def __init__(
        self,
        *,
        encoder: Encoder,
        store: KbDocumentStore,
        chunker: Chunker | None = None,
        dense_config: DenseConfig | None = None,
        fusion: FusionConfig | None = None,
    ) -> None:
        super().__init__(
            encoder=encoder,
            directory=None,
            chunker=chunker,
            dense_config=dense_config,
            fusion=fusion,
        )
        self.store = store
        self.vector_key = vector_key(encoder)
        self._synced = 0
        self._sync_lock = threading.Lock()
        self._follower: KbFollower | None = None

    @property
    def synced_version(self) -> int:
        """The database version this worker's index reflects."""
        return self._synced

    # -- following -----------------------------------------------------------------------

    def sync(self) -> int:
        """Apply every write committed since this index's version; returns the version.

        Idempotent and cheap when nothing changed (one primary-key read).
        """
        with self._sync_lock:
            current, doc_ids = self.store.changed_since(self._synced)
            if current == self._synced:
                return current
            # Weights first: documents written with them (seeding) are searched with them.
            choice = self.store.fusion_since(self._synced)
            if choice is not None:
                self.retriever.fusion = choice.fusion
                self._fusion_choice = choice
                logger.info("kb sync: fusion weights of version %s in force", choice.version)
            if self._synced == 0 and self.is_empty:
                stored = self.store.load()
                doc_ids = sorted(stored)
            else:
                stored = self.store.load(doc_ids)
            if doc_ids:
                self._apply(doc_ids, stored)
            self._synced = current
            return current

    def record_fusion(self, choice: FusionChoice, *, actor: str | None) -> FusionChoice:
        """Put ``choice`` in force for every worker (this one before the call returns,
        the others within a poll interval), kept in the database's ``kb_fusion`` history;
        returns it as recorded. ``fusion_choice`` stays ``source="default"`` until some
        weights are recorded."""
        self.store.record_fusion(choice.recorded(actor=actor))
        try:
            self.sync()
        except UnavailableError:
            logger.warning("kb fusion weights committed; applying them later")
        return self._fusion_choice

    def fusion_history(self) -> list[FusionChoice]:
        """Every fusion choice recorded in the database, oldest first."""
        return self.store.fusion_history()

    def _apply(self, doc_ids: Sequence[str], stored: dict[str, StoredDocument]) -> None:
        state = self._state
        usable = {
            doc_id: s
            for doc_id, s in stored.items()
            if s.vector_key == self.vector_key and s.vectors.shape[1:] == (self.encoder.dimension,)
        }
        to_embed = [s.document for doc_id, s in stored.items() if doc_id not in usable]
        additions: list[tuple[KbDocument, list[Chunk], FloatArray]] = [
            (s.document, list(s.chunks), s.vectors) for s in usable.values()
        ]
        if to_embed:
            # Another encoder family wrote these (or none did): embed here, keep local.
            logger.info("kb sync: embedding %s documents without usable vectors", len(to_embed))
            additions.extend(self._embed(to_embed, progress=None))
        self._state = state.apply(
            remove_doc_ids=[d for d in doc_ids if d in state.documents],
            add=additions,
            dimension=self.encoder.dimension,
        )
        logger.debug("kb sync: %s documents changed", len(doc_ids))

    def follow(
        self, *, waiter: ChangeWaiter | None = None, interval: float = POLL_INTERVAL_S
    ) -> SharedKnowledgeBase:
        """Load the index and keep it at the database's version from a thread of its own."""
        self.sync()
        if self._follower is None:
            self._follower = KbFollower(
                self.sync,
                waiter=waiter or build_change_waiter(self.store.engine),
                interval=interval,
            ).start()
        return self

    @property
    def follow_mode(self) -> str:
        """``listen``, ``poll`` or ``off``."""
        return self._follower.mode if self._follower is not None else "off"

    def close(self) -> None:
        """Stop following."""
        if self._follower is not None:
            self._follower.stop()
            self._follower = None

    # -- writing -------------------------------------------------------------------------

    def _changes(
        self,
        documents: Sequence[KbDocument],
        *,
        progress: ProgressCallback | None,
        restored_from: int | None = None,
    ) -> tuple[list[DocumentChange], int]:
        """Chunks and vectors per document: reused from the local index when it holds the
        same content, embedded otherwise."""
        state = self._state
        reuse = [d for d in documents if state.doc_hashes.get(d.id) == d.content_hash]
        embed = [d for d in documents if state.doc_hashes.get(d.id) != d.content_hash]
        changes: list[DocumentChange] = []
        for document in reuse:
            rows = list(state.doc_rows[document.id])
            chunks = [state.rows[r] for r in rows]
            changes.append(
                DocumentChange(
                    document.id,
                    document,
                    [c for c in chunks if c is not None],
                    np.asarray(state.dense.vectors[rows], dtype=np.float32),
                    restored_from=restored_from,
                )
            )
        if progress is not None and reuse:
            progress(len(reuse))
        embedded = self._embed(embed, progress=progress)
        changes.extend(
            DocumentChange(d.id, d, c, v, restored_from=restored_from) for d, c, v in embedded
        )
        return changes, sum(len(c) for _, c, _ in embedded)

    def _write(
        self,
        changes: Sequence[DocumentChange],
        *,
        actor: str | None,
        action: RevisionAction,
        seeding: bool = False,
        fusion: FusionChoice | None = None,
    ) -> WriteOutcome:
        outcome = self.store.write(
            changes,
            actor=actor,
            action=action,
            vector_key=self.vector_key,
            seeding=seeding,
            fusion=fusion,
        )
        # Read your own write: this worker's index includes it before the call answers.
        try:
            self.sync()
        except UnavailableError:
            # Committed all the same: answering 503 ("nothing was written") would be false.
            # The follower applies it once the database answers again.
            logger.warning("kb write committed at version %s; applying it later", outcome.version)
        return outcome

    def chunk_count(self, doc_id: str) -> int:
        """Chunks of ``doc_id`` in this worker's index (0 when it is not there yet)."""
        return len(self._state.doc_rows.get(doc_id, ()))

    def upsert(
        self,
        documents: Sequence[KbDocument],
        *,
        progress: ProgressCallback | None = None,
        actor: str | None = None,
    ) -> IngestReport:
        """Add or replace documents in the database (one transaction, one revision per
        changed document); unchanged ones are skipped."""
        seen: set[str] = set()
        for document in documents:
            if document.id in seen:
                raise InvalidInputError(f"id: document {document.id!r} appears twice in one upsert")
            seen.add(document.id)
        changes, embedded = self._changes(documents, progress=progress)
        outcome = self._write(changes, actor=actor, action="put")
        return _report(outcome, chunks_embedded=embedded)

    def delete(self, doc_ids: Sequence[str], *, actor: str | None = None) -> IngestReport:
        """Remove documents; every id must exist (``NotFoundError`` otherwise, nothing
        removed). Their history stays."""
        outcome = self._write(
            [DocumentChange(doc_id, None) for doc_id in doc_ids], actor=actor, action="put"
        )
        return _report(outcome, chunks_embedded=0)

    def import_once(
        self,
        documents: Sequence[KbDocument],
        *,
        actor: str,
        fusion: FusionChoice | None = None,
    ) -> bool:
        """Import files on disk (with the fusion weights recorded beside them, if any)
        unless some worker did already; ``True`` if this one did."""
        changes, _ = self._changes(documents, progress=None)
        before = self.store.version()
        recorded = fusion.imported().recorded(actor=actor) if fusion is not None else None
        outcome = self._write(changes, actor=actor, action="import", seeding=True, fusion=recorded)
        return outcome.version != before

    # -- history -------------------------------------------------------------------------

    def history(self, doc_id: str) -> list[KbRevision]:
        """Every revision of a document, oldest first (also of a deleted one)."""
        return self.store.history(doc_id)

    def restore(self, doc_id: str, revision: int, *, actor: str | None = None) -> IngestReport:
        """Make revision ``revision`` of ``doc_id`` its current content again (a new revision
        that records where it came from)."""
        old = self.store.revision(doc_id, revision)
        if old.document is None:
            raise InvalidInputError(
                f"revision {revision} of {doc_id!r} is a deletion; restore an earlier revision",
                field="revision",
            )
        changes, embedded = self._changes([old.document], progress=None, restored_from=revision)
        outcome = self._write(changes, actor=actor, action="restore")
        return _report(outcome, chunks_embedded=embedded)

    def reindex(self) -> int:
        """Re-embed every document with this encoder and store the vectors (after an
        encoder change, so workers of this family load instead of embedding); returns the
        number of documents re-embedded."""
        count = 0
        for doc_id, stored in self.store.load().items():
            if stored.vector_key == self.vector_key:
                continue
            [(document, chunks, vectors)] = self._embed([stored.document], progress=None)
            if self.store.store_vectors(
                doc_id, document.content_hash, chunks, vectors, vector_key=self.vector_key
            ):
                count += 1
        return count


def _report(outcome: WriteOutcome, *, chunks_embedded: int) -> IngestReport:
    return IngestReport(
        added=outcome.added,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        deleted=outcome.deleted,
        chunks_embedded=chunks_embedded,
    )
