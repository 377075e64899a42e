"""Turn Markdown, HTML, plain-text and JSONL files into :class:`KbDocument` objects.

Files get their id from their path relative to the folder being ingested (``returns/policy.md``
→ ``returns/policy``) unless Markdown front matter names one; JSONL records keep the id
they carry. HTML is flattened into Markdown-like text (headings become ``#`` lines) so
that one chunker serves every format.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from kb_index.documents import KbDocument, validate_visibility
from models.errors import InvalidInputError
from models.jsonl_lines import jsonl_objects

logger = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | JSONL_SUFFIXES

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def id_from_path(path: Path, *, root: Path | None) -> str:
    """Document id of a file: its path below ``root`` without the suffix, ``/``-separated."""
    relative = path.relative_to(root) if root is not None else Path(path.name)
    stem = relative.with_suffix("").as_posix()
    return re.sub(r"[^A-Za-z0-9._:/@-]+", "-", stem).strip("-/") or "document"


def _title_from_stem(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ").strip().capitalize() or path.name


def _as_tags(value: Any, *, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [t for t in (p.strip() for p in value.split(",")) if t]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidInputError(f"{where}: tags must be a list of strings")
    return tuple(t.strip() for t in value if t.strip())


def parse_markdown(raw: str, *, path: Path, root: Path | None = None) -> KbDocument:
    """A Markdown file, optionally with YAML front matter (id, title, url, tags, visibility)."""
    meta: dict[str, Any] = {}
    body = raw
    match = _FRONT_MATTER.match(raw)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"{path}: front matter is not valid YAML ({exc})") from exc
        if not isinstance(loaded, dict):
            raise InvalidInputError(f"{path}: front matter must be a mapping")
        meta = loaded
        body = raw[match.end() :]
    body = body.strip("\n")
    title = meta.get("title")
    if not title:
        h1 = _H1.search(body)
        title = h1.group(1) if h1 else _title_from_stem(path)
    return KbDocument(
        id=str(meta.get("id") or id_from_path(path, root=root)),
        title=str(title).strip(),
        text=body,
        url=str(meta["url"]) if meta.get("url") else None,
        tags=_as_tags(meta.get("tags"), where=str(path)),
        visibility=validate_visibility(str(meta.get("visibility", "public"))),
        source=path.as_posix(),
    )


class _HtmlFlattener(HTMLParser):
    """Collects readable text; headings become Markdown ``#`` lines, blocks become paragraphs."""

    _BLOCKS = frozenset(
        {"p", "div", "section", "article", "ul", "ol", "table", "tr", "blockquote", "pre", "br"}
    )
    _SKIP = frozenset({"script", "style", "nav", "footer", "header", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.first_h1 = ""
        self.canonical: str | None = None
        self.keywords: str | None = None
        self._skip_depth = 0
        self._in_title = False
        self._heading: list[str] | None = None
        self._heading_level = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "link" and (attributes.get("rel") or "").lower() == "canonical":
            self.canonical = attributes.get("href")
        elif tag == "meta" and (attributes.get("name") or "").lower() == "keywords":
            self.keywords = attributes.get("content")
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
            self._heading_level = int(tag[1])
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            text = " ".join("".join(self._heading).split())
            if text:
                if self._heading_level == 1 and not self.first_h1:
                    self.first_h1 = text
                self.parts.append(f"\n\n{'#' * self._heading_level} {text}\n\n")
            self._heading = None
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self.title += data
        elif self._heading is not None:
            self._heading.append(data)
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        joined = "".join(self.parts)
        lines = [line.strip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_html(raw: str, *, path: Path, root: Path | None = None) -> KbDocument:
    """An HTML page: ``<title>`` (or the first ``<h1>``), canonical link, keywords as tags."""
    parser = _HtmlFlattener()
    parser.feed(raw)
    parser.close()
    title = " ".join(parser.title.split()) or parser.first_h1 or _title_from_stem(path)
    return KbDocument(
        id=id_from_path(path, root=root),
        title=title,
        text=parser.text(),
        url=parser.canonical,
        tags=_as_tags(parser.keywords, where=str(path)),
        source=path.as_posix(),
    )


def parse_text(raw: str, *, path: Path, root: Path | None = None) -> KbDocument:
    """A plain-text file: the first non-empty line is the title, the whole file the text."""
    text = raw.strip("\n")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    title = first if 0 < len(first) <= 200 else _title_from_stem(path)
    return KbDocument(
        id=id_from_path(path, root=root), title=title, text=text, source=path.as_posix()
    )


def document_from_record(record: Any, *, where: str) -> KbDocument:
    """One JSONL record ``{"id","title","text","url"?,"tags"?,"visibility"?}``."""
    if not isinstance(record, dict):
        raise InvalidInputError(f"{where}: each line must be a JSON object")
    unknown = set(record) - {"id", "title", "text", "url", "tags", "visibility"}
    if unknown:
        raise InvalidInputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("id", "title", "text"):
        if not isinstance(record.get(key), str):
            raise InvalidInputError(f"{where}: field {key!r} must be a string")
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidInputError(f"{where}: field 'url' must be a string")
    try:
        return KbDocument(
            id=record["id"],
            title=record["title"],
            text=record["text"],
            url=url,
            tags=_as_tags(record.get("tags"), where=where),
            visibility=validate_visibility(str(record.get("visibility", "public"))),
            source=where,
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from exc


def parse_jsonl(raw: str, *, path: Path) -> list[KbDocument]:
    """A JSONL file with one document per line; blank lines are allowed."""
    return [
        document_from_record(record, where=f"{path}:{number}")
        for number, record in jsonl_objects(raw.splitlines(), source=path)
    ]


def load_file(path: Path, *, root: Path | None = None) -> list[KbDocument]:
    """Documents held by one file, chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(
            f"{path}: unsupported file type {suffix!r} "
            f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read as UTF-8 text ({exc})") from exc
    raw = raw.lstrip("\ufeff").replace("\r\n", "\n")
    if suffix in JSONL_SUFFIXES:
        return parse_jsonl(raw, path=path)
    if suffix in MARKDOWN_SUFFIXES:
        return [parse_markdown(raw, path=path, root=root)]
    if suffix in HTML_SUFFIXES:
        return [parse_html(raw, path=path, root=root)]
    return [parse_text(raw, path=path, root=root)]


def iter_source_files(paths: Sequence[Path]) -> Iterator[tuple[Path, Path | None]]:
    """Every supported file under ``paths`` with the root its id is relative to.

    Folders are walked recursively in sorted order; files named directly must be
    supported. Hidden files and ``*_queries.jsonl`` evaluation sets are skipped.
    """
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if (
                    file.is_file()
                    and file.suffix.lower() in SUPPORTED_SUFFIXES
                    and not any(part.startswith(".") for part in file.relative_to(path).parts)
                    and not file.name.endswith("_queries.jsonl")
                ):
                    yield file, path
        elif path.is_file():
            yield path, None
        else:
            raise InvalidInputError(f"{path}: no such file or folder")


def load_documents(paths: Sequence[Path]) -> list[KbDocument]:
    """All documents under ``paths``; a repeated id is an error rather than a silent overwrite."""
    documents: dict[str, KbDocument] = {}
    for file, root in iter_source_files(paths):
        for document in load_file(file, root=root):
            if document.id in documents:
                raise InvalidInputError(
                    f"{document.source}: document id {document.id!r} already came from "
                    f"{documents[document.id].source}"
                )
            documents[document.id] = document
    logger.debug("loaded %s documents from %s path(s)", len(documents), len(paths))
    return list(documents.values())
