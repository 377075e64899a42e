"""Domain types of the knowledge base: documents, chunks, filters and search results."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, get_args

from models.errors import InvalidInputError

Visibility = Literal["public", "internal"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)

MAX_DOC_ID_CHARS = 200
# Ids travel in URL paths and file listings: keep them printable and slash-safe enough.
_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")


def validate_doc_id(doc_id: str) -> str:
    """Return ``doc_id`` or raise if it cannot name a document."""
    if not isinstance(doc_id, str) or not doc_id:
        raise InvalidInputError("id: a document id must be a non-empty string")
    if len(doc_id) > MAX_DOC_ID_CHARS:
        raise InvalidInputError(f"id: a document id has at most {MAX_DOC_ID_CHARS} characters")
    if not _DOC_ID.match(doc_id):
        raise InvalidInputError(
            f"id: {doc_id!r} may only hold letters, digits and . _ : / @ - "
            "and must start with a letter or digit"
        )
    return doc_id


def validate_visibility(value: str) -> Visibility:
    """Check a visibility string against the allowed values."""
    if value not in VISIBILITIES:
        raise InvalidInputError(f"visibility: {value!r} is not one of {', '.join(VISIBILITIES)}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class KbDocument:
    """One help-centre article as the knowledge base stores it.

    ``text`` is the body the chunks point into (front matter removed, HTML turned into
    Markdown-like text); offsets in every chunk are character offsets into it.
    """

    id: str
    title: str
    text: str
    url: str | None = None
    tags: tuple[str, ...] = ()
    visibility: Visibility = "public"
    source: str | None = None

    def __post_init__(self) -> None:
        validate_doc_id(self.id)
        validate_visibility(self.visibility)
        if not self.title.strip():
            raise InvalidInputError(f"title: document {self.id!r} has an empty title")
        if not self.text.strip():
            raise InvalidInputError(f"text: document {self.id!r} has no text")
        if any(not isinstance(t, str) or not t.strip() for t in self.tags):
            raise InvalidInputError(f"tags: document {self.id!r} has an empty or non-string tag")
        # No database stores NUL in text (PostgreSQL refuses it): a 422, never a 503.
        for name, value in (("title", self.title), ("text", self.text), ("url", self.url or "")):
            if "\x00" in value:
                raise InvalidInputError(f"{name}: contains a NUL character", field=name)
        if any("\x00" in t for t in self.tags):
            raise InvalidInputError("tags: a tag contains a NUL character", field="tags")

    @cached_property
    def content_hash(self) -> str:
        """sha256 of everything that shapes the index, so unchanged re-ingests are skipped
        (the document is immutable: hashed once)."""
        payload = json.dumps(
            [self.title, self.text, self.url, sorted(self.tags), self.visibility],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON record, the form kept in ``documents.jsonl``."""
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "tags": list(self.tags),
            "visibility": self.visibility,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> KbDocument:
        """Inverse of :meth:`to_json`."""
        return cls(
            id=str(raw["id"]),
            title=str(raw["title"]),
            text=str(raw["text"]),
            url=raw.get("url"),
            tags=tuple(raw.get("tags") or ()),
            visibility=raw.get("visibility", "public"),
            source=raw.get("source"),
        )


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    title: str
    heading_path: tuple[str, ...]
    url: str | None
    start: int
    end: int
    text: str

    @property
    def heading(self) -> str | None:
        """Heading path as one string (``"Returns > Items we cannot take back"``)."""
        return " > ".join(self.heading_path) if self.heading_path else None

    def embedding_text(self) -> str:
        """What the encoder and BM25 see: title and headings give a short passage context."""
        context = " > ".join((self.title, *self.heading_path))
        return f"{context}\n{self.text}"

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON record, the form kept in ``chunks.jsonl``."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "heading_path": list(self.heading_path),
            "url": self.url,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Chunk:
        """Inverse of :meth:`to_json`."""
        return cls(
            chunk_id=str(raw["chunk_id"]),
            doc_id=str(raw["doc_id"]),
            title=str(raw["title"]),
            heading_path=tuple(raw.get("heading_path") or ()),
            url=raw.get("url"),
            start=int(raw["start"]),
            end=int(raw["end"]),
            text=str(raw["text"]),
        )


@dataclass(frozen=True)
class SearchFilters:
    """Restricts a search to some documents.

    A document passes when it carries at least one of ``tags`` (if any are given) and
    its visibility is one of ``visibility`` (if given). ``None``/empty means no filter.
    """

    tags: tuple[str, ...] = ()
    visibility: tuple[Visibility, ...] | None = None

    def __post_init__(self) -> None:
        if self.visibility is not None:
            for value in self.visibility:
                validate_visibility(value)

    @property
    def is_empty(self) -> bool:
        """True when the filters let every document through."""
        return not self.tags and self.visibility is None


@dataclass(frozen=True)
class DocumentHit:
    """One search result: a document, its score and the passage to cite.

    ``snippet`` is a short, display-ready start of the best chunk; ``passage`` is that
    chunk in full (``document.text[start:end]``) for grounding a reply. The score is
    comparable within one search, not across searches or retrieval modes.
    """

    doc_id: str
    title: str
    url: str | None
    score: float
    snippet: str
    passage: str
    heading: str | None
    chunk_id: str
    start: int
    end: int
    tags: tuple[str, ...] = ()
    visibility: Visibility = "public"


@dataclass(frozen=True)
class IngestReport:
    """What an upsert changed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    chunks_embedded: int = 0

    @property
    def changed(self) -> bool:
        """Whether the index differs after the operation."""
        return bool(self.added or self.updated or self.deleted)
