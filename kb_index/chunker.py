"""Split documents into passages along headings and paragraphs.

A chunk never crosses a heading, so its heading path says what it is about; inside a
section, paragraphs are packed up to ``max_chars`` and consecutive chunks share up to
``overlap_chars`` of text (cut at a sentence or paragraph start) so that an answer split
across a boundary is still found whole in one of them. Every chunk records character
offsets into the document text: ``document.text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb_index.documents import Chunk, KbDocument
from models.errors import InvalidInputError
from models.sentence_splitter import CHUNK_CUTS, PARAGRAPHS

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class _Section:
    heading_path: tuple[str, ...]
    start: int
    end: int
    body_start: int


def _sections(document: KbDocument) -> list[_Section]:
    """Sections of the text; the heading path skips an H1 that repeats the title."""
    text = document.text
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    current_path: tuple[str, ...] = ()
    current_start = 0
    current_body = 0
    in_fence = False
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if _FENCE.match(stripped):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(stripped)
        if match:
            sections.append(_Section(current_path, current_start, offset, current_body))
            level, heading = len(match.group(1)), match.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            if not (level == 1 and heading.casefold() == document.title.casefold()):
                stack.append((level, heading))
            current_path = tuple(h for _, h in stack)
            current_start = offset
            current_body = offset + len(line)
        offset += len(line)
    sections.append(_Section(current_path, current_start, len(text), current_body))
    return [s for s in sections if text[s.body_start : s.end].strip()]


class Chunker:
    """Heading- and paragraph-aware chunker with a size limit and overlap.

    Args:
        max_chars: upper bound on a chunk's length (a single word longer than this is
            the only exception).
        overlap_chars: how much text a chunk may repeat from the one before it in the
            same section.
    """

    def __init__(self, *, max_chars: int = 900, overlap_chars: int = 150) -> None:
        if max_chars < 50:
            raise InvalidInputError("max_chars must be at least 50")
        if not 0 <= overlap_chars < max_chars // 2:
            raise InvalidInputError("overlap_chars must be in [0, max_chars / 2)")
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars

    def params(self) -> dict[str, int]:
        """Settings recorded in the index manifest."""
        return {"max_chars": self.max_chars, "overlap_chars": self.overlap_chars}

    def _pieces(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Paragraphs of a section, long ones cut at sentences and then at spaces."""
        pieces: list[tuple[int, int]] = []
        for a, b in PARAGRAPHS.spans(text, start, end):
            if b - a <= self.max_chars:
                pieces.append((a, b))
                continue
            for sa, sb in CHUNK_CUTS.spans(text, a, b):
                while sb - sa > self.max_chars:
                    cut = text.rfind(" ", sa, sa + self.max_chars)
                    if cut <= sa:
                        cut = sa + self.max_chars
                    pieces.append((sa, cut))
                    sa = cut
                    while sa < sb and text[sa].isspace():
                        sa += 1
                if sb > sa:
                    pieces.append((sa, sb))
        return pieces

    def _overlap_start(self, text: str, start: int, end: int) -> int | None:
        """Earliest sentence or line start in the last ``overlap_chars`` of a chunk."""
        if self.overlap_chars == 0:
            return None
        lower = max(start + 1, end - self.overlap_chars)
        for match in CHUNK_CUTS.boundary.finditer(text, lower - 1, end):
            position = match.end()
            if lower <= position < end:
                return position
        return None

    def split(self, document: KbDocument) -> list[Chunk]:
        """Chunks of ``document`` in reading order."""
        text = document.text
        spans: list[tuple[tuple[str, ...], int, int]] = []
        for section in _sections(document):
            pieces = self._pieces(text, section.start, section.end)
            if not pieces:
                continue
            chunk_start, chunk_end = pieces[0]
            for a, b in pieces[1:]:
                if b - chunk_start <= self.max_chars:
                    chunk_end = b
                    continue
                spans.append((section.heading_path, chunk_start, chunk_end))
                overlap = self._overlap_start(text, chunk_start, chunk_end)
                chunk_start = (
                    overlap if overlap is not None and b - overlap <= self.max_chars else a
                )
                chunk_end = b
            spans.append((section.heading_path, chunk_start, chunk_end))
        return [
            Chunk(
                chunk_id=f"{document.id}#{index}",
                doc_id=document.id,
                title=document.title,
                heading_path=path,
                url=document.url,
                start=a,
                end=b,
                text=text[a:b],
            )
            for index, (path, a, b) in enumerate(spans)
        ]
