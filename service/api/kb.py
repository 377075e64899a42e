"""Knowledge-base routes: document CRUD under /v1/kb/documents and POST /v1/kb/search.

All routes are plain ``def``: embedding, FAISS and BM25 run in FastAPI's threadpool,
never on the event loop. Writes commit to the database (``SharedKnowledgeBase``) with the
API key's name as the actor; every revision stays in the history and can be restored.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, Field

from kb_index.document_loader import parse_html
from kb_index.documents import (
    MAX_DOC_ID_CHARS,
    IngestReport,
    KbDocument,
    SearchFilters,
    Visibility,
)
from kb_index.hybrid_retriever import MAX_K, MAX_QUERY_CHARS, SearchMode
from kb_index.knowledge_base import MAX_PAGE
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from service.deps import ActorDep, JobsDep, KbDep, requires
from service.errors import error_responses
from service.schemas import DomainOut, JobOut, NonBlankStr, WireModel

router = APIRouter(prefix="/kb", tags=["knowledge base"])

MAX_DOCUMENT_CHARS = 500_000
MAX_TAGS = 50


DocIdPath = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=MAX_DOC_ID_CHARS,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$",
        description="Document id (letters, digits and . _ : / @ -).",
    ),
]


def _readable_back(doc_id: str) -> str:
    """A new document's id must not end in ``/history``: ``GET`` of it would answer with
    the history of the id before it."""
    if doc_id.endswith("/history"):
        raise ValueError("a document id must not end in '/history' (that path is its history)")
    return doc_id


#: A document id a client may create.
NewDocIdPath = Annotated[DocIdPath, AfterValidator(_readable_back)]


class DocumentIn(WireModel):
    """A document to create or replace. ``text`` is Markdown (headings guide chunking)."""

    title: Annotated[NonBlankStr, Field(max_length=500)]
    text: Annotated[NonBlankStr, Field(max_length=MAX_DOCUMENT_CHARS)]
    url: Annotated[str | None, Field(default=None, max_length=2_000)] = None
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]],
        Field(default_factory=list, max_length=MAX_TAGS),
    ]
    visibility: Visibility = "public"
    format: Literal["markdown", "text", "html"] = Field(
        default="markdown", description="How to read `text`; HTML is flattened to text first."
    )

    def to_domain(self, doc_id: str) -> KbDocument:
        """The document as the knowledge base stores it (HTML flattened to text)."""
        text = self.text
        if self.format == "html":
            text = parse_html(self.text, path=Path(f"{doc_id}.html")).text
        return KbDocument(
            id=doc_id,
            title=self.title.strip(),
            text=text,
            url=self.url,
            tags=tuple(t.strip() for t in self.tags),
            visibility=self.visibility,
            source="api",
        )


class DocumentSummaryOut(DomainOut):
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

    def to_domain(self) -> SearchFilters:
        """The filters as the knowledge base takes them."""
        return SearchFilters(
            tags=tuple(self.tags),
            visibility=tuple(self.visibility) if self.visibility else None,
        )


class SearchRequest(WireModel):
    """A knowledge-base query."""

    query: Annotated[NonBlankStr, Field(max_length=MAX_QUERY_CHARS)]
    k: Annotated[int, Field(ge=1, le=MAX_K)] = 5
    filters: FiltersIn | None = None
    mode: SearchMode = "hybrid"


class SearchResultOut(DomainOut):
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


class RevisionDocumentOut(DomainOut):
    """A document's content as one revision left it."""

    title: str
    text: str
    url: str | None
    tags: list[str]
    visibility: Visibility


class RevisionOut(DomainOut):
    """One change of a document: who (the API key's name), when, what it became."""

    revision: int
    action: Literal["put", "delete", "restore", "import"]
    actor: str | None
    at: datetime
    version: int = Field(description="The knowledge-base version this write made.")
    restored_from: int | None
    document: RevisionDocumentOut | None = Field(description="`null` for a deletion.")


class HistoryOut(BaseModel):
    """Every revision of a document, oldest first."""

    id: str
    revisions: list[RevisionOut]


class RestoreIn(WireModel):
    """Which revision to make current again."""

    revision: Annotated[int, Field(ge=1, le=2_000_000_000)]


# Registered before the plain document routes: ``{doc_id:path}`` would swallow the suffix.
@router.get(
    "/documents/{doc_id:path}/history",
    response_model=HistoryOut,
    responses=error_responses(404),
    dependencies=[requires("kb:read")],
)
def document_history(doc_id: DocIdPath, kb: KbDep) -> HistoryOut:
    """Who changed a document when, and what it said (also after it was deleted)."""
    revisions = kb.history(doc_id)
    return HistoryOut(id=doc_id, revisions=[RevisionOut.model_validate(r) for r in revisions])


@router.post(
    "/documents/{doc_id:path}/restore",
    response_model=DocumentWriteOut,
    responses={
        201: {"model": DocumentWriteOut, "description": "The document was created again."},
        200: {"description": "The revision is current again."},
        **error_responses(404),
    },
    dependencies=[requires("kb:write")],
)
def restore_document(
    doc_id: DocIdPath, body: RestoreIn, kb: KbDep, actor: ActorDep, response: Response
) -> DocumentWriteOut:
    """Make an earlier revision current again (recorded as a new revision); restoring a
    deleted document creates it again (201)."""
    report = kb.restore(doc_id, body.revision, actor=actor)
    return _write_out(doc_id, report, kb, response)


def _write_out(
    doc_id: str, report: IngestReport, kb: SharedKnowledgeBase, response: Response
) -> DocumentWriteOut:
    outcome: Literal["created", "updated", "unchanged"] = (
        "created" if report.added else "updated" if report.updated else "unchanged"
    )
    if outcome == "created":
        response.status_code = status.HTTP_201_CREATED
    return DocumentWriteOut(
        id=doc_id, status=outcome, chunks=kb.chunk_count(doc_id), kb_version=kb.version
    )


@router.put(
    "/documents/{doc_id:path}",
    response_model=DocumentWriteOut,
    responses={
        201: {"model": DocumentWriteOut, "description": "The document was created."},
        200: {"description": "The document was replaced, or was already identical."},
    },
    dependencies=[requires("kb:write")],
)
def put_document(
    doc_id: NewDocIdPath, body: DocumentIn, kb: KbDep, actor: ActorDep, response: Response
) -> DocumentWriteOut:
    """Create or replace a document; an identical one is left as is. Answers once the
    write is committed; every worker's search sees it within 2 s."""
    report = kb.upsert([body.to_domain(doc_id)], actor=actor)
    return _write_out(doc_id, report, kb, response)


@router.get(
    "/documents/{doc_id:path}",
    response_model=DocumentOut,
    responses=error_responses(404),
    dependencies=[requires("kb:read")],
)
def get_document(doc_id: DocIdPath, kb: KbDep) -> DocumentOut:
    """One document with its text; 404 if unknown."""
    document = kb.get(doc_id)
    return DocumentOut(
        **DocumentSummaryOut.model_validate(document).model_dump(),
        text=document.text,
        chunks=len(kb.chunks(doc_id)),
        content_hash=document.content_hash,
    )


@router.delete(
    "/documents/{doc_id:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
    dependencies=[requires("kb:write")],
)
def delete_document(doc_id: DocIdPath, kb: KbDep, actor: ActorDep) -> Response:
    """Remove a document (its history stays); 404 if unknown."""
    kb.delete([doc_id], actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/documents", response_model=DocumentPageOut, dependencies=[requires("kb:read")])
def list_documents(
    kb: KbDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DocumentPageOut:
    """Documents ordered by id, one page at a time."""
    documents, total = kb.list_documents(offset=offset, limit=limit)
    return DocumentPageOut(
        items=[DocumentSummaryOut.model_validate(d) for d in documents],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post(
    "/reindex",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[requires("admin")],
)
def reindex(jobs: JobsDep, kb: KbDep) -> JobOut:
    """Start a job that stores vectors of the current encoder for every document (after an
    encoder change); follow it at ``GET /v1/jobs/{id}``. Asking again for the same encoder
    and knowledge-base version returns the same job."""
    key = f"{kb.vector_key}@{kb.synced_version}"
    return JobOut.model_validate(jobs.submit("kb_reindex", {}, key=key))


@router.post("/search", response_model=SearchResponse, dependencies=[requires("kb:read")])
def search(body: SearchRequest, kb: KbDep) -> SearchResponse:
    """Hybrid (default), dense or BM25 search; one result per document, best first."""
    filters = body.filters.to_domain() if body.filters is not None else None
    hits = kb.search(body.query, k=body.k, filters=filters, mode=body.mode)
    return SearchResponse(results=[SearchResultOut.model_validate(h) for h in hits])
