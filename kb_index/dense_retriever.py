"""Dense chunk search: FAISS inner product over L2-normalised embeddings.

Small indexes use exact search (``IndexFlatIP``); past ``exact_max_rows`` rows an HNSW
graph answers in well under the exact scan's time (``bench/kb_search_bench.py`` measures
where the two cross on this machine). The vectors themselves are kept next to the FAISS
index, so the index can be rebuilt, compacted or switched between kinds without
re-embedding a single chunk.

Instances are immutable: :meth:`with_changes` returns a new retriever, so searches that
hold the old one never see a half-applied update.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

from models.errors import ArtifactError, InvalidInputError

logger = logging.getLogger(__name__)
_faiss: Any = faiss  # the SWIG module lacks stubs for the newer search-parameter classes

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
IndexKind = Literal["flat", "hnsw"]


@dataclass(frozen=True)
class DenseConfig:
    """How the FAISS index is chosen and tuned.

    Args:
        exact_max_rows: up to this many rows the index is exact (``IndexFlatIP``).
        hnsw_m: graph degree of the HNSW index.
        hnsw_ef_construction: build-time beam width.
        hnsw_ef_search: query-time beam width (recall vs latency).
        compact_dead_fraction: rebuild from stored vectors once this share of rows is
            deleted (HNSW cannot remove points, so deletions are tombstones until then).
        search_threads: OpenMP threads per query. One: requests already run in parallel,
            and on a busy machine OpenMP's spinning threads made a 10k-row exact search
            25x slower (24 ms instead of 0.9 ms, see the bench).
    """

    exact_max_rows: int = 20_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 96
    compact_dead_fraction: float = 0.25
    search_threads: int = 1

    def kind_for(self, rows: int) -> IndexKind:
        """Index kind to use for ``rows`` stored rows."""
        return "flat" if rows <= self.exact_max_rows else "hnsw"

    def to_json(self) -> dict[str, Any]:
        """Recorded in the index manifest."""
        return {
            "exact_max_rows": self.exact_max_rows,
            "hnsw_m": self.hnsw_m,
            "hnsw_ef_construction": self.hnsw_ef_construction,
            "hnsw_ef_search": self.hnsw_ef_search,
            "compact_dead_fraction": self.compact_dead_fraction,
            "search_threads": self.search_threads,
        }


def build_faiss_index(vectors: FloatArray, *, kind: IndexKind, config: DenseConfig) -> Any:
    """A FAISS inner-product index over ``vectors`` (rows keep their positions as ids)."""
    dimension = vectors.shape[1]
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    else:
        index = faiss.IndexHNSWFlat(dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class DenseRetriever:
    """Nearest chunks of a query vector among the live rows.

    Rows are positions in ``vectors``; a row whose ``alive`` flag is off was deleted and
    is never returned. Callers map rows to chunks.
    """

    def __init__(
        self,
        vectors: FloatArray,
        *,
        alive: BoolArray,
        config: DenseConfig | None = None,
        index: Any | None = None,
    ) -> None:
        if vectors.ndim != 2 or vectors.dtype != np.float32:
            raise InvalidInputError("vectors must be a 2-d float32 array")
        if alive.shape != (vectors.shape[0],):
            raise InvalidInputError("alive must have one flag per vector row")
        self.config = config or DenseConfig()
        self.vectors = vectors
        self.alive = alive
        self.kind: IndexKind
        if index is None:
            self.kind = self.config.kind_for(int(vectors.shape[0]))
            index = build_faiss_index(vectors, kind=self.kind, config=self.config)
        elif index.ntotal != vectors.shape[0] or index.d != vectors.shape[1]:
            raise ArtifactError(
                f"FAISS index holds {index.ntotal}x{index.d} vectors, expected "
                f"{vectors.shape[0]}x{vectors.shape[1]}"
            )
        else:
            is_hnsw = isinstance(faiss.downcast_index(index), faiss.IndexHNSWFlat)
            self.kind = "hnsw" if is_hnsw else "flat"
        self.index = index
        if self.kind == "hnsw":
            graph: Any = faiss.downcast_index(self.index)
            graph.hnsw.efSearch = self.config.hnsw_ef_search
        self._all_alive = bool(alive.all())

    @classmethod
    def empty(cls, dimension: int, *, config: DenseConfig | None = None) -> DenseRetriever:
        """A retriever with no rows."""
        return cls(
            np.zeros((0, dimension), dtype=np.float32),
            alive=np.zeros(0, dtype=bool),
            config=config,
        )

    @property
    def dimension(self) -> int:
        """Vector length."""
        return int(self.vectors.shape[1])

    @property
    def rows(self) -> int:
        """Rows stored, deleted ones included."""
        return int(self.vectors.shape[0])

    @property
    def dead_rows(self) -> int:
        """Rows deleted but not yet compacted away."""
        return self.rows - int(self.alive.sum())

    def with_changes(
        self, *, remove_rows: Sequence[int], add_vectors: FloatArray
    ) -> tuple[DenseRetriever, npt.NDArray[np.int64]]:
        """A new retriever with rows removed and vectors appended.

        Returns the new retriever and, for every old row, its row in the new one (or -1
        if it was removed); appended vectors follow the surviving rows. Flat indexes are
        rebuilt compactly (a copy); HNSW gets tombstones and appends until too many rows
        are dead or the size calls for another index kind.
        """
        if add_vectors.ndim != 2 or add_vectors.shape[1] != self.dimension:
            raise InvalidInputError(f"new vectors must have dimension {self.dimension}")
        alive = self.alive.copy()
        alive[np.asarray(remove_rows, dtype=np.int64)] = False
        live_after = int(alive.sum()) + len(add_vectors)
        kind = self.config.kind_for(self.rows + len(add_vectors))
        dead_fraction = 1.0 - live_after / max(1, self.rows + len(add_vectors))
        incremental = (
            self.kind == "hnsw"
            and kind == "hnsw"
            and self.config.kind_for(live_after) == "hnsw"
            and dead_fraction < self.config.compact_dead_fraction
        )
        if incremental:
            index = faiss.clone_index(self.index)
            if len(add_vectors):
                index.add(np.ascontiguousarray(add_vectors, dtype=np.float32))
            vectors = np.concatenate([self.vectors, add_vectors]).astype(np.float32, copy=False)
            new_alive = np.concatenate([alive, np.ones(len(add_vectors), dtype=bool)])
            mapping = np.where(alive, np.arange(self.rows), -1).astype(np.int64)
            return DenseRetriever(
                vectors, alive=new_alive, config=self.config, index=index
            ), mapping
        kept = np.flatnonzero(alive)
        mapping = np.full(self.rows, -1, dtype=np.int64)
        mapping[kept] = np.arange(len(kept))
        vectors = np.concatenate([self.vectors[kept], add_vectors]).astype(np.float32, copy=False)
        retriever = DenseRetriever(
            vectors, alive=np.ones(len(vectors), dtype=bool), config=self.config
        )
        logger.debug(
            "dense index rebuilt from %s stored vectors (%s)", len(vectors), retriever.kind
        )
        return retriever, mapping

    def scores_for(self, query: FloatArray, rows: npt.NDArray[np.int64]) -> FloatArray:
        """Exact inner products of ``query`` with the given rows."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.vectors[rows] @ query, dtype=np.float32)

    def search(
        self, query: FloatArray, *, k: int, allowed: BoolArray | None = None
    ) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Top-``k`` live rows for one query vector, best first.

        Args:
            query: a normalised vector of shape ``(dimension,)``.
            k: how many rows at most.
            allowed: optional mask over rows (filters); deleted rows are always excluded.
        """
        if self.rows == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # OpenMP settings are per calling thread, so this does not slow down index builds.
        faiss.omp_set_num_threads(self.config.search_threads)
        mask = None
        if allowed is not None:
            mask = allowed & self.alive
        elif not self._all_alive:
            mask = self.alive
        if mask is None:
            scores, ids = self.index.search(q, min(k, self.rows))
        else:
            allowed_rows = int(mask.sum())
            if allowed_rows == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            bitmap = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(self.rows, faiss.swig_ptr(bitmap))
            if self.kind == "hnsw" and allowed_rows > self.config.exact_max_rows:
                params = _faiss.SearchParametersHNSW(
                    sel=selector, efSearch=self.config.hnsw_ef_search
                )
                scores, ids = self.index.search(q, min(k, allowed_rows), params=params)
            else:
                # Few allowed rows: an exact scan of just those beats a filtered graph walk
                # and never misses results the way a restrictive HNSW filter can.
                flat = (
                    self.index if self.kind == "flat" else faiss.downcast_index(self.index.storage)
                )
                params = _faiss.SearchParameters(sel=selector)
                scores, ids = flat.search(q, min(k, allowed_rows), params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def serialize_index(self) -> bytes | None:
        """The HNSW graph as bytes (flat indexes are rebuilt from vectors instead)."""
        if self.kind != "hnsw":
            return None
        return bytes(faiss.serialize_index(self.index))

    @staticmethod
    def deserialize_index(data: bytes) -> Any:
        """Inverse of :meth:`serialize_index`."""
        return faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
