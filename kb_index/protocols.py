"""The one interface other components use to query the knowledge base."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kb_index.documents import DocumentHit, SearchFilters


@runtime_checkable
class Retriever(Protocol):
    """Finds the documents that answer a query, best first, one hit per document."""

    def retrieve(
        self, query: str, *, k: int = 5, filters: SearchFilters | None = None
    ) -> list[DocumentHit]:
        """Up to ``k`` documents for ``query`` that pass ``filters``."""
        ...
