"""The knowledge base facade: documents in, grounded search results out.

It owns the current :class:`IndexState`, the chunker, the encoder and a
:class:`HybridRetriever`, and persists every write under one folder. Writes are
serialised by a lock and follow "compute, persist, swap": the new snapshot is built
and written to disk before it replaces the old one, so a failure anywhere leaves both
the in-memory and the on-disk index as they were. Searches take no lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb_index.chunker import Chunker
from kb_index.dense_retriever import DenseConfig, DenseRetriever, FloatArray
from kb_index.documents import Chunk, DocumentHit, IngestReport, KbDocument, SearchFilters
from kb_index.fusion_choice import FusionChoice, choice_from_params
from kb_index.hybrid_retriever import FusionConfig, HybridRetriever, SearchMode
from kb_index.index_state import IndexState
from kb_index.kb_store import folder_holds_index, read_state, write_state
from models.errors import ArtifactError, InvalidInputError, NotFoundError
from models.protocols import Encoder

logger = logging.getLogger(__name__)

EMBED_BATCH = 64
MAX_PAGE = 500

ProgressCallback = Callable[[int], None]


class KnowledgeBase:
    """Store plus retrievers: upsert, delete, get, list and search documents.

    Args:
        encoder: embeds chunks and queries.
        directory: where the index lives; ``None`` keeps it in memory only (tests).
        chunker: how documents are split.
        dense_config: exact vs HNSW choice and HNSW parameters.
        fusion: hybrid score fusion.
    """

    def __init__(
        self,
        *,
        encoder: Encoder,
        directory: Path | None = None,
        chunker: Chunker | None = None,
        dense_config: DenseConfig | None = None,
        fusion: FusionConfig | None = None,
        state: IndexState | None = None,
    ) -> None:
        self.encoder = encoder
        self.directory = directory
        self.chunker = chunker or Chunker()
        self.dense_config = dense_config or DenseConfig()
        self._state = state or IndexState.empty(
            encoder.dimension,
            dense=DenseRetriever.empty(encoder.dimension, config=self.dense_config),
        )
        self._write_lock = threading.Lock()
        self.retriever = HybridRetriever(lambda: self._state, encoder=encoder, fusion=fusion)
        self._fusion_choice = FusionChoice(fusion=self.retriever.fusion)

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        encoder: Encoder,
        chunker: Chunker | None = None,
        dense_config: DenseConfig | None = None,
        fusion: FusionConfig | None = None,
    ) -> KnowledgeBase:
        """Load the index in ``directory``, or start an empty one if the folder is absent/empty.

        Raises:
            ArtifactError: the folder holds something that is not a valid index, or an
                index built with another encoder (``EncoderMismatchError``).
        """
        dense_config = dense_config or DenseConfig()
        state = None
        choice = None
        if folder_holds_index(directory):
            state, manifest = read_state(directory, encoder=encoder, dense_config=dense_config)
            # The fusion chosen for this collection (`triage kb tune-fusion`) travels with it.
            try:
                choice = choice_from_params(manifest.params)
            except InvalidInputError as exc:
                raise ArtifactError(f"{directory}: {exc}") from exc
        kb = cls(
            encoder=encoder,
            directory=directory,
            chunker=chunker,
            dense_config=dense_config,
            fusion=fusion or (choice.fusion if choice is not None else None),
            state=state,
        )
        if fusion is None and choice is not None:
            kb._fusion_choice = choice
        return kb

    # -- reading -------------------------------------------------------------------------

    @property
    def state(self) -> IndexState:
        """The current snapshot (immutable)."""
        return self._state

    @property
    def version(self) -> str:
        """Fingerprint of the indexed content and, unless they are the shipped ones, of the
        fusion weights (both decide what a search finds): reported by ``/readyz`` and
        recorded with every drafted reply."""
        version = f"kb-{self._state.fingerprint}"
        fusion = self.retriever.fusion
        return version if fusion == FusionConfig() else f"{version}+fusion-{fusion.fingerprint}"

    def __len__(self) -> int:
        return len(self._state.documents)

    @property
    def is_empty(self) -> bool:
        """True when no document is indexed."""
        return not self._state.documents

    def get(self, doc_id: str) -> KbDocument:
        """The stored document ``doc_id``; ``NotFoundError`` if there is none."""
        document = self._state.documents.get(doc_id)
        if document is None:
            raise NotFoundError(f"no knowledge-base document with id {doc_id!r}")
        return document

    def chunks(self, doc_id: str) -> list[Chunk]:
        """Chunks of a document in reading order."""
        state = self._state
        self.get(doc_id)
        chunks = [state.rows[r] for r in state.doc_rows[doc_id]]
        return sorted((c for c in chunks if c is not None), key=lambda c: c.start)

    def list_documents(self, *, offset: int = 0, limit: int = 50) -> tuple[list[KbDocument], int]:
        """A page of documents ordered by id, and the total count."""
        if offset < 0:
            raise InvalidInputError("offset: must not be negative")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit: must be between 1 and {MAX_PAGE}")
        documents = self._state.documents
        ids = sorted(documents)
        return [documents[i] for i in ids[offset : offset + limit]], len(ids)

    def retrieve(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        query_vector: FloatArray | None = None,
    ) -> list[DocumentHit]:
        """Hybrid search; implements :class:`kb_index.protocols.Retriever`."""
        return self.retriever.retrieve(query, k=k, filters=filters, query_vector=query_vector)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[DocumentHit]:
        """Search in a given mode (``hybrid``, ``dense`` or ``bm25``)."""
        return self.retriever.search(query, k=k, filters=filters, mode=mode)

    # -- writing -------------------------------------------------------------------------

    def upsert(
        self, documents: Sequence[KbDocument], *, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Add or replace documents; unchanged ones (same content hash) are skipped.

        Only the chunks of new or changed documents are embedded. ``progress`` is called
        with the number of documents handled since the previous call.
        """
        seen: set[str] = set()
        for document in documents:
            if document.id in seen:
                raise InvalidInputError(f"id: document {document.id!r} appears twice in one upsert")
            seen.add(document.id)
        with self._write_lock:
            state = self._state
            unchanged = [d for d in documents if state.doc_hashes.get(d.id) == d.content_hash]
            changed = [d for d in documents if state.doc_hashes.get(d.id) != d.content_hash]
            if progress is not None and unchanged:
                progress(len(unchanged))
            additions = self._embed(changed, progress=progress)
            report = IngestReport(
                added=tuple(d.id for d in changed if d.id not in state.documents),
                updated=tuple(d.id for d in changed if d.id in state.documents),
                unchanged=tuple(d.id for d in unchanged),
                chunks_embedded=sum(len(c) for _, c, _ in additions),
            )
            if not changed:
                return report
            new_state = state.apply(
                remove_doc_ids=[d.id for d in changed if d.id in state.documents],
                add=additions,
                dimension=self.encoder.dimension,
            )
            self._commit(new_state)
        logger.info(
            "kb upsert: %s added, %s updated, %s unchanged, %s chunks embedded",
            len(report.added),
            len(report.updated),
            len(report.unchanged),
            report.chunks_embedded,
        )
        return report

    def delete(self, doc_ids: Sequence[str]) -> IngestReport:
        """Remove documents; every id must exist (``NotFoundError`` otherwise)."""
        with self._write_lock:
            state = self._state
            missing = [i for i in doc_ids if i not in state.documents]
            if missing:
                raise NotFoundError(f"no knowledge-base document with id {missing[0]!r}")
            new_state = state.apply(
                remove_doc_ids=list(doc_ids), add=[], dimension=self.encoder.dimension
            )
            self._commit(new_state)
        logger.info("kb delete: %s documents removed", len(doc_ids))
        return IngestReport(deleted=tuple(doc_ids))

    def save(self, *, before_swap: Callable[[Path], None] | None = None) -> None:
        """Write the current snapshot (writes already persist; this is for fresh folders)."""
        if self.directory is None:
            raise InvalidInputError("this knowledge base has no directory to save to")
        with self._write_lock:
            write_state(
                self.directory,
                self._state,
                encoder=self.encoder,
                params=self._params(),
                before_swap=before_swap,
            )

    def use_fusion(self, fusion: FusionConfig) -> None:
        """Search with ``fusion`` from now on (set by hand, no provenance); see
        :meth:`record_fusion`."""
        self.record_fusion(FusionChoice(fusion=fusion, source="api"), actor=None)

    @property
    def fusion_choice(self) -> FusionChoice:
        """The fusion weights searches use, and where they came from."""
        return self._fusion_choice

    def record_fusion(self, choice: FusionChoice, *, actor: str | None) -> FusionChoice:
        """Search with ``choice`` from now on; an index with a folder records it (and its
        provenance) there, so the weights chosen for this collection are the ones it is
        opened with. Returns the choice as recorded."""
        recorded = choice.recorded(actor=actor)
        self._fusion_choice = recorded
        self.retriever.fusion = recorded.fusion
        if self.directory is not None and self._state.documents:
            self.save()
        return recorded

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "chunker": self.chunker.params(),
            "dense": self.dense_config.to_json(),
            "fusion": self.retriever.fusion.to_json(),
        }
        if self._fusion_choice.source != "default":
            params["fusion_choice"] = self._fusion_choice.to_json()
        return params

    def _commit(self, new_state: IndexState) -> None:
        if self.directory is not None:
            write_state(self.directory, new_state, encoder=self.encoder, params=self._params())
        self._state = new_state

    def _embed(
        self, documents: Sequence[KbDocument], *, progress: ProgressCallback | None
    ) -> list[tuple[KbDocument, list[Chunk], FloatArray]]:
        """Chunk and embed documents, in batches of about ``EMBED_BATCH`` chunks."""
        out: list[tuple[KbDocument, list[Chunk], FloatArray]] = []
        pending: list[tuple[KbDocument, list[Chunk]]] = []
        pending_chunks = 0

        def flush() -> None:
            nonlocal pending, pending_chunks
            if not pending:
                return
            texts = [c.embedding_text() for _, chunks in pending for c in chunks]
            vectors = self.encoder.encode(texts, batch_size=EMBED_BATCH)
            if vectors.shape != (len(texts), self.encoder.dimension):
                raise InvalidInputError("encoder returned vectors of an unexpected shape")
            cursor = 0
            for document, chunks in pending:
                out.append((document, chunks, vectors[cursor : cursor + len(chunks)]))
                cursor += len(chunks)
            if progress is not None:
                progress(len(pending))
            pending, pending_chunks = [], 0

        for document in documents:
            chunks = self.chunker.split(document)
            if not chunks:
                raise InvalidInputError(f"text: document {document.id!r} has no indexable text")
            pending.append((document, chunks))
            pending_chunks += len(chunks)
            if pending_chunks >= EMBED_BATCH:
                flush()
        flush()
        return [(d, c, np.asarray(v, dtype=np.float32)) for d, c, v in out]
