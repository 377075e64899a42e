"""One immutable snapshot of the knowledge base: documents, chunk rows and both indexes.

Writers build a new snapshot and swap it in; readers keep whichever snapshot they
started with, so a search never sees half an update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kb_index.dense_retriever import DenseRetriever, FloatArray
from kb_index.documents import Chunk, DocumentHit, KbDocument, SearchFilters
from kb_index.lexical_retriever import LexicalRetriever, tokenize

SNIPPET_CHARS = 320


def make_snippet(text: str, *, limit: int = SNIPPET_CHARS) -> str:
    """The start of a passage, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


@dataclass(frozen=True)
class IndexState:
    """Documents, their chunks laid out in rows, and the dense and lexical indexes.

    ``rows[i]`` is the chunk stored at row ``i`` of both indexes, or ``None`` where a
    deleted chunk still occupies a row (HNSW tombstone).
    """

    documents: Mapping[str, KbDocument]
    doc_hashes: Mapping[str, str]
    rows: tuple[Chunk | None, ...]
    dense: DenseRetriever
    lexical: LexicalRetriever
    doc_rows: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    title_tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        documents: Mapping[str, KbDocument],
        rows: Sequence[Chunk | None],
        dense: DenseRetriever,
        lexical: LexicalRetriever | None = None,
    ) -> IndexState:
        """Derive the lookups (and, unless given, the BM25 index) from rows and documents."""
        doc_rows: dict[str, list[int]] = {doc_id: [] for doc_id in documents}
        for position, chunk in enumerate(rows):
            if chunk is not None:
                doc_rows[chunk.doc_id].append(position)
        if lexical is None:
            lexical = LexicalRetriever(
                [c.embedding_text() if c is not None else None for c in rows]
            )
        return cls(
            documents=dict(documents),
            doc_hashes={doc_id: doc.content_hash for doc_id, doc in documents.items()},
            rows=tuple(rows),
            dense=dense,
            lexical=lexical,
            doc_rows={doc_id: tuple(r) for doc_id, r in doc_rows.items()},
            title_tokens={d.id: frozenset(tokenize(d.title)) for d in documents.values()},
        )

    @classmethod
    def empty(cls, dimension: int, *, dense: DenseRetriever | None = None) -> IndexState:
        """A snapshot with nothing in it."""
        return cls.build(documents={}, rows=[], dense=dense or DenseRetriever.empty(dimension))

    @property
    def chunk_count(self) -> int:
        """Live chunks."""
        return sum(len(r) for r in self.doc_rows.values())

    def fingerprint(self) -> str:
        """Short hash of every document id and content hash: the index's version."""
        digest = hashlib.sha256()
        for doc_id in sorted(self.doc_hashes):
            digest.update(f"{doc_id}\0{self.doc_hashes[doc_id]}\n".encode())
        return digest.hexdigest()[:12]

    def allowed_mask(self, filters: SearchFilters | None) -> npt.NDArray[np.bool_] | None:
        """Rows of documents passing ``filters``; ``None`` when nothing is filtered."""
        if filters is None or filters.is_empty:
            return None
        mask = np.zeros(len(self.rows), dtype=bool)
        for doc_id, document in self.documents.items():
            if filters.accepts(document):
                mask[list(self.doc_rows[doc_id])] = True
        return mask

    def apply(
        self,
        *,
        remove_doc_ids: Sequence[str],
        add: Sequence[tuple[KbDocument, Sequence[Chunk], FloatArray]],
        dimension: int,
    ) -> IndexState:
        """A new snapshot with documents removed and (re)added; only new chunks need vectors."""
        remove_rows = [r for doc_id in remove_doc_ids for r in self.doc_rows.get(doc_id, ())]
        new_chunks = [c for _, chunks, _ in add for c in chunks]
        vectors = (
            np.concatenate([v for _, _, v in add]).astype(np.float32, copy=False)
            if add
            else np.zeros((0, dimension), dtype=np.float32)
        )
        dense, mapping = self.dense.with_changes(remove_rows=remove_rows, add_vectors=vectors)
        rows: list[Chunk | None] = [None] * (dense.rows - len(new_chunks))
        for old, new in enumerate(mapping):
            if new >= 0:
                rows[new] = self.rows[old]
        rows.extend(new_chunks)
        documents = {k: v for k, v in self.documents.items() if k not in set(remove_doc_ids)}
        for document, _, _ in add:
            documents[document.id] = document
        return IndexState.build(documents=documents, rows=rows, dense=dense)

    def group(
        self,
        rows: npt.NDArray[np.int64],
        scores: npt.NDArray[np.float32] | npt.NDArray[np.float64],
        *,
        k: int,
        doc_bonus: Mapping[str, float] | None = None,
    ) -> list[DocumentHit]:
        """Best ``k`` documents from scored chunk rows; each cites its best chunk."""
        best: dict[str, tuple[float, int, int]] = {}
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            chunk = self.rows[row]
            if chunk is None:
                continue
            previous = best.get(chunk.doc_id)
            if previous is None:
                best[chunk.doc_id] = (score, row, 1)
            elif score > previous[0]:
                best[chunk.doc_id] = (score, row, previous[2] + 1)
            else:
                best[chunk.doc_id] = (previous[0], previous[1], previous[2] + 1)
        bonus = doc_bonus or {}
        ranked = sorted(
            ((s + bonus.get(doc_id, 0.0), doc_id, row, n) for doc_id, (s, row, n) in best.items()),
            key=lambda item: (-item[0], item[1]),
        )
        hits = []
        for score, doc_id, row, matched in ranked[:k]:
            chunk = self.rows[row]
            assert chunk is not None
            document = self.documents[doc_id]
            hits.append(
                DocumentHit(
                    doc_id=doc_id,
                    title=document.title,
                    url=document.url,
                    score=round(float(score), 6),
                    snippet=make_snippet(chunk.text),
                    passage=chunk.text,
                    heading=chunk.heading,
                    chunk_id=chunk.chunk_id,
                    start=chunk.start,
                    end=chunk.end,
                    tags=document.tags,
                    visibility=document.visibility,
                    matched_chunks=matched,
                )
            )
        return hits
