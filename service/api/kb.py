"""Knowledge-base routes: document CRUD under /v1/kb/documents and POST /v1/kb/search.

All routes are plain ``def``: embedding, FAISS and BM25 run in FastAPI's threadpool,
never on the event loop. Writes are serialised inside :class:`KnowledgeBase`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, field_validator

from kb_index.document_loader import parse_html
from kb_index.documents import MAX_DOC_ID_CHARS, KbDocument, SearchFilters, Visibility
from kb_index.hybrid_retriever import MAX_K, MAX_QUERY_CHARS, SearchMode
from kb_index.knowledge_base import MAX_PAGE, KnowledgeBase
from service.deps import ResourcesDep
from service.schemas import WireModel

router = APIRouter(prefix="/kb", tags=["knowledge base"])

MAX_DOCUMENT_CHARS = 500_000
MAX_TAGS = 50


def get_kb(resources: ResourcesDep) -> KnowledgeBase:
    """The loaded knowledge base; 503 if this process was started without one."""
    if resources.kb is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the knowledge base is not loaded")
    return resources.kb


KbDep = Annotated[KnowledgeBase, Depends(get_kb)]
DocIdPath = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=MAX_DOC_ID_CHARS,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$",
        description="Document id (letters, digits and . _ : / @ -).",
    ),
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain non-whitespace characters")
    return value


class DocumentIn(WireModel):
    """A document to create or replace. ``text`` is Markdown (headings guide chunking)."""

    title: Annotated[str, Field(min_length=1, max_length=500)]
    text: Annotated[str, Field(min_length=1, max_length=MAX_DOCUMENT_CHARS)]
    url: Annotated[str | None, Field(default=None, max_length=2_000)] = None
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]],
        Field(default_factory=list, max_length=MAX_TAGS),
    ]
    visibility: Visibility = "public"
    format: Literal["markdown", "text", "html"] = Field(
        default="markdown", description="How to read `text`; HTML is flattened to text first."
    )

    _title_not_blank = field_validator("title")(_not_blank)
    _text_not_blank = field_validator("text")(_not_blank)


class DocumentSummaryOut(BaseModel):
    """A document without its text, as listed."""

    id: str
    title: str
    url: str | None
    tags: list[str]
    visibility: Visibility


class DocumentOut(DocumentSummaryOut):
    """A stored document."""

    text: str
    chunks: int
    content_hash: str


class DocumentWriteOut(BaseModel):
    """Outcome of a PUT."""

    id: str
    status: Literal["created", "updated", "unchanged"]
    chunks: int
    kb_version: str


class DocumentPageOut(BaseModel):
    """A page of documents ordered by id."""

    items: list[DocumentSummaryOut]
    total: int
    offset: int
    limit: int


class FiltersIn(WireModel):
    """Search filters: any of ``tags``, and one of ``visibility``."""

    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]],
        Field(default_factory=list, max_length=MAX_TAGS),
    ]
    visibility: Annotated[list[Visibility] | None, Field(default=None, min_length=1)] = None


class SearchRequest(WireModel):
    """A knowledge-base query."""

    query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
    k: Annotated[int, Field(ge=1, le=MAX_K)] = 5
    filters: FiltersIn | None = None
    mode: SearchMode = "hybrid"

    _query_not_blank = field_validator("query")(_not_blank)


class SearchResultOut(BaseModel):
    """One document found, with the passage to cite."""

    doc_id: str
    title: str
    url: str | None
    score: float
    snippet: str
    heading: str | None


class SearchResponse(BaseModel):
    """Documents best first."""

    results: list[SearchResultOut]


def _summary(document: KbDocument) -> DocumentSummaryOut:
    return DocumentSummaryOut(
        id=document.id,
        title=document.title,
        url=document.url,
        tags=list(document.tags),
        visibility=document.visibility,
    )


@router.put("/documents/{doc_id:path}", response_model=DocumentWriteOut)
def put_document(
    doc_id: DocIdPath, body: DocumentIn, kb: KbDep, response: Response
) -> DocumentWriteOut:
    """Create or replace a document; an identical one is left as is."""
    text = body.text
    if body.format == "html":
        text = parse_html(body.text, path=Path(f"{doc_id}.html")).text
    document = KbDocument(
        id=doc_id,
        title=body.title.strip(),
        text=text,
        url=body.url,
        tags=tuple(t.strip() for t in body.tags),
        visibility=body.visibility,
        source="api",
    )
    report = kb.upsert([document])
    outcome: Literal["created", "updated", "unchanged"] = (
        "created" if report.added else "updated" if report.updated else "unchanged"
    )
    if outcome == "created":
        response.status_code = status.HTTP_201_CREATED
    return DocumentWriteOut(
        id=doc_id, status=outcome, chunks=len(kb.chunks(doc_id)), kb_version=kb.version
    )


@router.get("/documents/{doc_id:path}", response_model=DocumentOut)
def get_document(doc_id: DocIdPath, kb: KbDep) -> DocumentOut:
    """One document with its text; 404 if unknown."""
    document = kb.get(doc_id)
    return DocumentOut(
        **_summary(document).model_dump(),
        text=document.text,
        chunks=len(kb.chunks(doc_id)),
        content_hash=document.content_hash,
    )


@router.delete("/documents/{doc_id:path}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(doc_id: DocIdPath, kb: KbDep) -> Response:
    """Remove a document; 404 if unknown."""
    kb.delete([doc_id])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/documents", response_model=DocumentPageOut)
def list_documents(
    kb: KbDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DocumentPageOut:
    """Documents ordered by id, one page at a time."""
    documents, total = kb.list_documents(offset=offset, limit=limit)
    return DocumentPageOut(
        items=[_summary(d) for d in documents], total=total, offset=offset, limit=limit
    )


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, kb: KbDep) -> SearchResponse:
    """Hybrid (default), dense or BM25 search; one result per document, best first."""
    filters = None
    if body.filters is not None:
        filters = SearchFilters(
            tags=tuple(body.filters.tags),
            visibility=tuple(body.filters.visibility) if body.filters.visibility else None,
        )
    hits = kb.search(body.query, k=body.k, filters=filters, mode=body.mode)
    return SearchResponse(
        results=[
            SearchResultOut(
                doc_id=h.doc_id,
                title=h.title,
                url=h.url,
                score=h.score,
                snippet=h.snippet,
                heading=h.heading,
            )
            for h in hits
        ]
    )
