"""The one interface other components use to query the knowledge base."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from kb_index.documents import DocumentHit, SearchFilters


@runtime_checkable
class Retriever(Protocol):
    """Finds the documents that answer a query, best first, one hit per document."""

    def retrieve(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[DocumentHit]:
        """Up to ``k`` documents for ``query`` that pass ``filters``; ``query_vector``, the
        query already encoded with the index's encoder, saves encoding it again."""
        ...
