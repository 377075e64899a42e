"""Plain text and sentences of a help-centre passage (Markdown as the KB stores it).

Drafts quote the knowledge base sentence by sentence. A customer should not see
``**bold**`` markers, link syntax or table pipes, so a passage is first parsed as
CommonMark with tables (markdown-it-py) and rendered to plain text, line by line and
deterministically: headings are dropped, list markers removed,
table rows become "cell: header value; ..." lines, a run of noun-phrase list items becomes
one line under its heading or lead-in ("Items we cannot take back: gift cards; ...") and
inline markup is stripped. Every
sentence a draft uses is a verbatim substring of that rendering (:func:`plain_text`),
which is what makes a draft checkable against its citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from models.sentence_splitter import PROSE

SentenceKind = Literal["sentence", "list_item", "table_row", "list_group"]

# CommonMark plus GitHub tables, no raw HTML (it stays text, as the customer would see it).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_SPACES = re.compile(r"\s+")
# Starts only where a blank run starts: otherwise every blank of a long run rescans the rest.
_TRAILING_CONJUNCTION = re.compile(r"(?<!\s)[,;]?\s++(?:and|or)$", re.IGNORECASE)
# Words that make a list item a statement rather than a noun phrase ("Gift cards.").
_CLAUSE_WORDS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "can",
        "cannot",
        "can't",
        "could",
        "will",
        "won't",
        "would",
        "may",
        "might",
        "must",
        "should",
        "shall",
        "do",
        "does",
        "did",
        "don't",
        "doesn't",
        "has",
        "have",
        "had",
        "take",
        "takes",
        "taken",
        "get",
        "gets",
        "need",
        "needs",
        "needed",
        "show",
        "shows",
        "appear",
        "appears",
        "send",
        "sends",
        "choose",
        "open",
        "select",
        "contact",
        "use",
        "pay",
        "paid",
        "refund",
        "refunds",
        "return",
        "returns",
        "keep",
        "keeps",
        "apply",
        "applies",
        "include",
        "includes",
        "expect",
        "expects",
        "arrive",
        "arrives",
        "reach",
        "reaches",
        "allow",
        "allows",
        "tell",
        "tells",
        "ask",
        "asks",
        "check",
        "checks",
        "receive",
        "receives",
        "we",
        "you",
        "it",
        "they",
        "there",
        "this",
        "that",
    ]
)
# A list item opening with one of these is a statement ("A quick call to your bank ...").
_STATEMENT_STARTS = frozenset(
    [
        "a",
        "an",
        "the",
        "your",
        "our",
        "we",
        "you",
        "it",
        "they",
        "if",
        "for",
        "when",
        "once",
        "after",
        "before",
        "this",
        "most",
    ]
)


@dataclass(frozen=True)
class PassageSentence:
    """A sentence of a passage's plain text: ``plain_text(passage)[start:end] == text``."""

    text: str
    start: int
    end: int
    kind: SentenceKind
    #: The heading of the section the sentence sits under, when the passage shows one.
    heading: str | None = None

    @property
    def standalone(self) -> bool:
        """Whether it reads as a statement on its own (not a fragment or a lead-in)."""
        return is_standalone(self.text, self.kind)


def _inline(token: Token) -> str:
    """The visible words of an inline token: markup, link targets and images' sources
    dropped, white space folded."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            parts.append("".join(c.content for c in child.children or ()))
    return _SPACES.sub(" ", "".join(parts)).strip()


def _table_row(cells: list[str], header: list[str] | None) -> str:
    cells = [c for c in cells]
    if not cells or not cells[0]:
        return ""
    if len(cells) == 2:
        return f"{cells[0]}: {cells[1]}." if cells[1] else ""
    parts = []
    for i, cell in enumerate(cells[1:], start=1):
        if not cell:
            continue
        name = header[i].lower() if header and i < len(header) and header[i] else ""
        parts.append(f"{name} {cell}" if name else cell)
    return f"{cells[0]}: {'; '.join(parts)}." if parts else ""


def _lines(passage: str) -> list[tuple[str, SentenceKind, str | None]]:
    """Plain lines of a passage: one per paragraph, list item or table row, each with the
    heading it sits under; a list item's later paragraphs join its line."""
    out: list[tuple[str, SentenceKind, str | None]] = []
    heading: str | None = None
    header: list[str] | None = None
    row: list[str] = []
    items: list[int] = []  # per open list item: paragraphs seen so far
    in_heading = in_header = in_cell = False
    for token in _MARKDOWN.parse(passage):
        kind = token.type
        if kind == "heading_open":
            in_heading = True
        elif kind == "heading_close":
            in_heading = False
        elif kind == "list_item_open":
            items.append(0)
        elif kind == "list_item_close":
            items.pop()
        elif kind == "thead_open":
            in_header, header = True, None
        elif kind == "thead_close":
            in_header = False
        elif kind == "tr_open":
            row = []
        elif kind in {"th_open", "td_open"}:
            in_cell = True
        elif kind in {"th_close", "td_close"}:
            in_cell = False
        elif kind == "tr_close":
            if in_header:
                header = row
            elif text := _table_row(row, header):
                out.append((text, "table_row", heading))
        elif kind == "table_close":
            header = None
        elif kind == "inline":
            text = _inline(token)
            if in_heading:
                heading = text
            elif in_cell:
                row.append(text)
            elif not text:
                continue
            elif items and items[-1] > 0 and out and out[-1][1] == "list_item":
                last = out[-1]
                out[-1] = (f"{last[0]} {text}", "list_item", last[2])
            elif items:
                items[-1] += 1
                out.append((text, "list_item", heading))
            else:
                out.append((text, "sentence", heading))
        elif kind in {"fence", "code_block"} and (text := _SPACES.sub(" ", token.content).strip()):
            out.append((text, "sentence", heading))
    return _group_noun_phrase_items(out)


def _item_phrase(text: str) -> str:
    """A list item as part of a sentence: without its closing stop or the conjunction that
    led into the next item ("what happened, and"), case kept (names)."""
    return _TRAILING_CONJUNCTION.sub("", text.rstrip(" .;,")).rstrip(" .;,")


def _group_noun_phrase_items(
    lines: list[tuple[str, SentenceKind, str | None]],
) -> list[tuple[str, SentenceKind, str | None]]:
    """Join runs of noun-phrase list items ("Gift cards.") with their lead-in or heading.

    Such items answer nothing on their own; "Items we cannot take back: gift cards; items
    marked final sale." does, and it is still text of the passage a draft can quote.
    """
    out: list[tuple[str, SentenceKind, str | None]] = []
    i = 0
    while i < len(lines):
        text, kind, heading = lines[i]
        if kind != "list_item" or is_standalone(text, kind):
            out.append((text, kind, heading))
            i += 1
            continue
        j = i
        while (
            j < len(lines)
            and lines[j][1] == "list_item"
            and lines[j][2] == heading
            and not is_standalone(lines[j][0], "list_item")
        ):
            j += 1
        items = [_item_phrase(t) for t, _, _ in lines[i:j]]
        label: str | None = None
        if out and out[-1][1] == "sentence" and out[-1][0].endswith(":"):
            label = out.pop()[0].rstrip(":").strip()
        elif heading:
            label = heading
        if label and all(items):
            out.append((f"{label}: {'; '.join(items)}.", "list_group", heading))
        else:
            out.extend(lines[i:j])
        i = j
    return out


# Passages are help-centre articles and chunks: the same few hundred texts on every request.
_CACHED_PASSAGES = 4_096


@lru_cache(maxsize=_CACHED_PASSAGES)
def plain_text(passage: str) -> str:
    """The passage as plain text, one line per paragraph, list item or table row."""
    return "\n".join(text for text, _, _ in _lines(passage))


def split_sentences(passage: str) -> list[PassageSentence]:
    """Sentences of ``plain_text(passage)`` with their offsets into it."""
    return list(_sentences(passage))


@lru_cache(maxsize=_CACHED_PASSAGES)
def _sentences(passage: str) -> tuple[PassageSentence, ...]:
    sentences = []
    offset = 0
    for line, kind, heading in _lines(passage):
        spans = [(0, len(line))] if kind in {"table_row", "list_group"} else PROSE.spans(line)
        for a, b in spans:
            sentences.append(PassageSentence(line[a:b], offset + a, offset + b, kind, heading))
        offset += len(line) + 1
    return tuple(sentences)


def is_standalone(text: str, kind: SentenceKind = "sentence") -> bool:
    """A full statement a reply can quote: capitalised, closed by . ! or ?, not a lead-in
    ("Include:"), and for list items a clause rather than a noun phrase ("Gift cards.")."""
    words = text.split()
    if len(words) < 4 or len(words) > 70:
        return False
    if text[-1] not in ".!?":
        return False
    if kind in {"table_row", "list_group"}:
        return True
    if not (text[0].isupper() or text[0].isdigit() or text[0] in '"“€£$'):
        return False
    lowered = [w.strip(".,;:!?()\"'“”").lower() for w in words]
    # "Pillows, duvets and mattresses whose seal ..." is a noun phrase, not a statement.
    noun_phrase = "whose" in lowered or not set(lowered) & _CLAUSE_WORDS
    if kind == "list_item" and lowered[0] not in _STATEMENT_STARTS and noun_phrase:
        return False
    # A cross-reference alone ("See I was charged twice.") answers nothing.
    return not (words[0].lower() == "see" and len(words) <= 8)
