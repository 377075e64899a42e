"""HTML e-mail bodies as plain text whose every character remembers where it came from.

Tickets arrive as HTML. Classifiers want the visible text; entity offsets must still
point into the text the helpdesk sent. :func:`html_to_view` gives that text as a
:class:`TextView`, and :meth:`TextView.original_span` maps an offset back. The parse is
one linear scan over tags and entities (no nested quantifiers), so hostile markup costs
no more than its length.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_HTML_HINT = re.compile(
    r"<(?:html|body|div|p|br|span|table|td|tr|blockquote|a|b|i|u|em|strong|font|ul|ol|li|h[1-6])"
    r"\b[^>]*>|&(?:nbsp|amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)
_HTML_TOKEN = re.compile(
    r"(?P<comment><!--.*?-->)"
    r"|(?P<skip><(?P<skiptag>script|style|head|title)\b[^>]*>.*?</(?P=skiptag)\s*>)"
    r"|(?P<tag></?(?P<name>[a-zA-Z][a-zA-Z0-9]*)\b[^>]*>)"
    r"|(?P<entity>&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});)",
    re.DOTALL | re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    re.findall(
        r"\w+",
        "address article aside blockquote br dd div dl dt fieldset figcaption figure footer "
        "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot "
        "th thead tr ul",
    )
)
_QUOTE_CLASS = re.compile(r"class\s*=\s*[\"'][^\"']*(?:gmail_quote|moz-cite|yahoo_quoted)", re.I)


@dataclass(frozen=True)
class TextView:
    """A derived text whose every character knows its span in the original text."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the view's ``text[start:end]`` (``end`` exclusive)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) is outside the view")
        return self.starts[start], self.ends[end - 1]

    @classmethod
    def identity(cls, text: str) -> TextView:
        """The view of a text onto itself."""
        return cls(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))


class _Builder:
    """Accumulates characters with their original spans, collapsing HTML whitespace."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.quoted: list[bool] = []

    def add(self, text: str, start: int, end: int, *, quoted: bool, collapse: bool) -> None:
        for ch in text:
            if collapse and ch.isspace():
                if not self.chars or self.chars[-1] in " \n":
                    continue
                ch = " "
            self.chars.append(ch)
            self.starts.append(start)
            self.ends.append(end)
            self.quoted.append(quoted)

    def add_text(self, text: str, offset: int, *, quoted: bool) -> None:
        for i, ch in enumerate(text):
            self.add(ch, offset + i, offset + i + 1, quoted=quoted, collapse=True)

    def newline(self, at: int, *, quoted: bool) -> None:
        while self.chars and self.chars[-1] == " ":
            self._pop()
        if len(self.chars) >= 2 and self.chars[-1] == "\n" and self.chars[-2] == "\n":
            return
        self.chars.append("\n")
        self.starts.append(at)
        self.ends.append(at)
        self.quoted.append(quoted)

    def _pop(self) -> None:
        self.chars.pop()
        self.starts.pop()
        self.ends.pop()
        self.quoted.pop()


def looks_like_html(text: str) -> bool:
    """True when the text carries HTML markup (tags or character entities)."""
    return _HTML_HINT.search(text) is not None


def html_to_view(raw: str) -> tuple[TextView, tuple[bool, ...]]:
    """Visible text of an HTML body, and per character whether it sits in a quoted block."""
    out = _Builder()
    quote_depth = 0
    # Stack of (tag name, opened a quote) so closing tags pop quote state correctly.
    stack: list[tuple[str, bool]] = []
    pos = 0
    for match in _HTML_TOKEN.finditer(raw):
        if match.start() > pos:
            out.add_text(raw[pos : match.start()], pos, quoted=quote_depth > 0)
        pos = match.end()
        if match.group("entity"):
            out.add(
                html.unescape(match.group("entity")).replace("\xa0", " "),
                match.start(),
                match.end(),
                quoted=quote_depth > 0,
                collapse=True,
            )
            continue
        name = (match.group("name") or "").lower()
        if not match.group("tag") or not name:
            continue
        closing = match.group("tag").startswith("</")
        if name in _BLOCK_TAGS:
            out.newline(match.start(), quoted=quote_depth > 0)
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    quote_depth -= sum(1 for _, q in stack[i:] if q)
                    del stack[i:]
                    break
        elif not match.group("tag").endswith("/>") and name not in {"br", "hr", "img", "meta"}:
            opens_quote = name == "blockquote" or bool(_QUOTE_CLASS.search(match.group("tag")))
            stack.append((name, opens_quote))
            quote_depth += int(opens_quote)
    if pos < len(raw):
        out.add_text(raw[pos:], pos, quoted=quote_depth > 0)
    view = TextView("".join(out.chars), tuple(out.starts), tuple(out.ends))
    return view, tuple(out.quoted)
