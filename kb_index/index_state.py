"""One immutable snapshot of the knowledge base: documents, chunk rows and both indexes.

Writers build a new snapshot and swap it in; readers keep whichever snapshot they
started with, so a search never sees half an update.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from kb_index.dense_retriever import DenseRetriever, FloatArray
from kb_index.documents import VISIBILITIES, Chunk, DocumentHit, KbDocument, SearchFilters
from kb_index.lexical_retriever import LexicalRetriever, tokenize

SNIPPET_CHARS = 320


_MARKUP = re.compile(r"(?m)^\s{0,3}#{1,6}\s+|\*\*|__|`")


def make_snippet(text: str, *, limit: int = SNIPPET_CHARS) -> str:
    """The start of a passage as plain text (heading marks and emphasis dropped), cut at a word."""
    flat = " ".join(_MARKUP.sub("", text).split())
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
    doc_ids: tuple[str, ...] = ()
    row_doc: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    doc_visibility: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    tag_docs: Mapping[str, npt.NDArray[np.int32]] = field(default_factory=dict)

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
        doc_ids = tuple(documents)
        ordinal = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        doc_rows: dict[str, list[int]] = {doc_id: [] for doc_id in doc_ids}
        row_doc = np.full(len(rows), -1, dtype=np.int32)
        for position, chunk in enumerate(rows):
            if chunk is not None:
                doc_rows[chunk.doc_id].append(position)
                row_doc[position] = ordinal[chunk.doc_id]
        if lexical is None:
            lexical = LexicalRetriever(
                [c.embedding_text() if c is not None else None for c in rows]
            )
        # Inverted tag lookup and per-row document ordinals keep filters vectorised.
        tag_docs: dict[str, list[int]] = {}
        for doc_id, document in documents.items():
            for tag in set(document.tags):
                tag_docs.setdefault(tag, []).append(ordinal[doc_id])
        return cls(
            documents=dict(documents),
            doc_hashes={doc_id: doc.content_hash for doc_id, doc in documents.items()},
            rows=tuple(rows),
            dense=dense,
            lexical=lexical,
            doc_rows={doc_id: tuple(r) for doc_id, r in doc_rows.items()},
            title_tokens={d.id: frozenset(tokenize(d.title)) for d in documents.values()},
            doc_ids=doc_ids,
            row_doc=row_doc,
            doc_visibility=np.array(
                [VISIBILITIES.index(documents[d].visibility) for d in doc_ids], dtype=np.int8
            ),
            tag_docs={tag: np.array(ids, dtype=np.int32) for tag, ids in tag_docs.items()},
        )

    @classmethod
    def empty(cls, dimension: int, *, dense: DenseRetriever | None = None) -> IndexState:
        """A snapshot with nothing in it."""
        return cls.build(documents={}, rows=[], dense=dense or DenseRetriever.empty(dimension))

    @property
    def chunk_count(self) -> int:
        """Live chunks."""
        return sum(len(r) for r in self.doc_rows.values())

    @cached_property
    def fingerprint(self) -> str:
        """Short hash of every document id and content hash: the index's version (a
        snapshot never changes, so it is computed once; it is read on every suggestion)."""
        digest = hashlib.sha256()
        for doc_id in sorted(self.doc_hashes):
            digest.update(f"{doc_id}\0{self.doc_hashes[doc_id]}\n".encode())
        return digest.hexdigest()[:12]

    def allowed_mask(self, filters: SearchFilters | None) -> npt.NDArray[np.bool_] | None:
        """Rows of documents passing ``filters``; ``None`` when nothing is filtered."""
        if filters is None or filters.is_empty:
            return None
        doc_ok = np.ones(len(self.doc_ids), dtype=bool)
        if filters.visibility is not None:
            codes = [VISIBILITIES.index(v) for v in filters.visibility]
            doc_ok &= np.isin(self.doc_visibility, codes)
        if filters.tags:
            tagged = np.zeros(len(self.doc_ids), dtype=bool)
            for tag in filters.tags:
                if tag in self.tag_docs:
                    tagged[self.tag_docs[tag]] = True
            doc_ok &= tagged
        mask = np.zeros(len(self.rows), dtype=bool)
        live = self.row_doc >= 0
        mask[live] = doc_ok[self.row_doc[live]]
        return mask

    def title_matches(self, query_tokens: set[str], doc_ordinals: Sequence[int]) -> FloatArray:
        """Share of the query's tokens found in the title of each given document."""
        shares = np.zeros(len(doc_ordinals), dtype=np.float32)
        if not query_tokens:
            return shares
        for i, ordinal in enumerate(doc_ordinals):
            found = len(query_tokens & self.title_tokens[self.doc_ids[ordinal]])
            if found:
                shares[i] = found / len(query_tokens)
        return shares

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
        removed = set(remove_doc_ids)
        documents = {k: v for k, v in self.documents.items() if k not in removed}
        for document, _, _ in add:
            documents[document.id] = document
        return IndexState.build(documents=documents, rows=rows, dense=dense)

    def group(
        self,
        rows: npt.NDArray[np.int64],
        scores: npt.NDArray[np.float32] | npt.NDArray[np.float64],
        *,
        k: int,
        doc_bonus: Callable[[Sequence[int]], FloatArray] | None = None,
    ) -> list[DocumentHit]:
        """Best ``k`` documents from scored chunk rows; each cites its best chunk.

        A document scores as its best chunk, plus ``doc_bonus`` (given the document
        ordinals) if any. Vectorised: this runs on every search over ~200 candidates.
        """
        if len(rows) == 0:
            return []
        docs = self.row_doc[rows]
        keep = docs >= 0
        rows, docs, chunk_scores = (
            rows[keep],
            docs[keep],
            np.asarray(scores, dtype=np.float64)[keep],
        )
        if len(rows) == 0:
            return []
        order = np.lexsort((-chunk_scores, docs))
        sorted_docs = docs[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = sorted_docs[1:] != sorted_docs[:-1]
        starts = np.flatnonzero(first)
        best = order[starts]
        doc_ordinals = docs[best].tolist()
        doc_scores = chunk_scores[best]
        if doc_bonus is not None:
            doc_scores = doc_scores + doc_bonus(doc_ordinals)
        ranked = sorted(
            range(len(best)), key=lambda i: (-doc_scores[i], self.doc_ids[doc_ordinals[i]])
        )[:k]
        hits = []
        for i in ranked:
            chunk = self.rows[int(rows[best[i]])]
            assert chunk is not None
            document = self.documents[chunk.doc_id]
            doc_id = chunk.doc_id
            hits.append(
                DocumentHit(
                    doc_id=doc_id,
                    title=document.title,
                    url=document.url,
                    score=round(float(doc_scores[i]), 6),
                    snippet=make_snippet(chunk.text),
                    passage=chunk.text,
                    heading=chunk.heading,
                    chunk_id=chunk.chunk_id,
                    start=chunk.start,
                    end=chunk.end,
                    tags=document.tags,
                    visibility=document.visibility,
                )
            )
        return hits
