"""The lines of a message by what they are: the customer's new text, the quoted thread, a
signature or a legal disclaimer.

Only the body is what the customer wrote this time; the quoted thread repeats earlier
messages (and their order numbers), a signature holds the customer's phone number, a
disclaimer says nothing. :func:`classify_lines` labels every line, :func:`join_lines`
keeps the wanted ones with their original offsets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.text_view import TextView


class LineKind(StrEnum):
    """What a line of a message is."""

    BODY = "body"
    QUOTE = "quote"
    SIGNATURE = "signature"
    DISCLAIMER = "disclaimer"


_QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"on\b.{0,200}\bwrote:?"  # On Mon, 3 Mar 2025, Support <s@x.com> wrote:
    r"|-{2,}\s*(?:original message|forwarded message)\s*-{2,}"
    r"|_{5,}"  # Outlook's rule above the quoted header
    r"|le\b.{0,200}\ba écrit\s*:"
    r"|am\b.{0,200}\bschrieb.{0,80}:"
    r"|el\b.{0,200}\bescribió\s*:"
    r")\s*$",
    re.IGNORECASE,
)
_HEADER_FIELD = re.compile(r"^\s*(?:from|sent|date|to|cc|subject|von|gesendet|de|envoyé)\s*:", re.I)
_SIG_DELIMITER = re.compile(r"^(?:--|-- |—)\s*$")
_DEVICE_LINE = re.compile(
    r"^\s*(?:sent from my \w+.*|sent from (?:outlook|mail|yahoo mail).*|get outlook for \w+.*"
    r"|sent via .{1,40})\s*$",
    re.IGNORECASE,
)
# Possessive runs: with plain ``\s*``/``[\w.'-]*`` a long row of blanks or one long word
# after "thanks" was split in quadratically (or cubically) many ways before failing.
_SIGN_OFF = re.compile(
    r"^\s*+(?:(?:best|kind|warm|warmest|many|with)?\s*+(?:regards|wishes)|best|cheers|thanks|"
    r"thank you|thanks again|many thanks|thanks in advance|thx|sincerely|"
    r"yours(?: truly| sincerely)?|"
    r"br|rgds|respectfully|take care|talk soon)\s*+[,.!]*+\s*+(?:[A-Z][\w.'-]*+\s*+){0,3}$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"(?:this (?:e-?mail|message|communication)(?: and any (?:attachments?|files))?"
    r".{0,80}(?:confidential|privileged|intended (?:only |solely )?for))"
    r"|(?:if you (?:have )?received this (?:e-?mail|message|communication) in error)"
    r"|(?:please consider the environment before printing)"
    r"|(?:confidentiality notice)"
    r"|(?:the information contained in this (?:e-?mail|message))",
    re.IGNORECASE,
)
_SIGNATURE_MAX_LINES = 7


@dataclass(frozen=True)
class Line:
    """One line of the visible text, ``[start, end)`` in view offsets, newline excluded."""

    start: int
    end: int
    kind: LineKind


def _split_lines(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in re.finditer(r"\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def classify_lines(text: str, quoted_chars: Sequence[bool] | None = None) -> list[Line]:
    """Label every line of ``text`` as body, quote, signature or disclaimer."""
    spans = _split_lines(text)
    kinds = [LineKind.BODY] * len(spans)
    rows = [text[s:e] for s, e in spans]

    # Quoted history: HTML blockquotes, "> " lines, and everything after a reply header.
    for i, (s, e) in enumerate(spans):
        row = rows[i]
        in_html_quote = quoted_chars is not None and e > s and all(quoted_chars[s:e])
        if in_html_quote or row.lstrip().startswith(">"):
            kinds[i] = LineKind.QUOTE
    cut = _quote_header_index(rows)
    if cut is not None:
        for i in range(cut, len(rows)):
            kinds[i] = LineKind.QUOTE

    # Legal disclaimers: the paragraph that holds the boilerplate, to its blank line.
    for i, row in enumerate(rows):
        if kinds[i] is LineKind.BODY and _DISCLAIMER.search(row):
            j = i
            while j < len(rows) and rows[j].strip() and kinds[j] is LineKind.BODY:
                kinds[j] = LineKind.DISCLAIMER
                j += 1

    # Signatures: after "-- ", a device line, or a short sign-off near the end of the body.
    body_idx = [i for i, k in enumerate(kinds) if k is LineKind.BODY and rows[i].strip()]
    for i in body_idx:
        row = rows[i]
        if _DEVICE_LINE.match(row):
            kinds[i] = LineKind.SIGNATURE
    body_idx = [i for i, k in enumerate(kinds) if k is LineKind.BODY and rows[i].strip()]
    for pos, i in enumerate(body_idx):
        row = rows[i]
        rest = body_idx[pos + 1 :]
        is_delim = bool(_SIG_DELIMITER.match(row))
        is_sign_off = bool(_SIGN_OFF.match(row)) and pos > 0
        if not (is_delim or is_sign_off):
            continue
        if len(rest) > _SIGNATURE_MAX_LINES or any(len(rows[j]) > 80 for j in rest):
            continue
        if is_sign_off and any(rows[j].rstrip().endswith("?") for j in rest):
            continue
        for j in [i, *rest]:
            kinds[j] = LineKind.SIGNATURE
        break
    return [Line(s, e, k) for (s, e), k in zip(spans, kinds, strict=True)]


def _quote_header_index(rows: Sequence[str]) -> int | None:
    for i, row in enumerate(rows):
        if not row.strip():
            continue
        if _QUOTE_HEADER.match(row):
            return i
        # "On Tue, 4 Mar 2025 at 09:12, Shop Support <help@shop.example>" / "wrote:" wrapped.
        if (
            i + 1 < len(rows)
            and re.match(r"^\s*on\b", row, re.I)
            and re.match(r"^\s*\S*.{0,60}wrote:\s*$", rows[i + 1], re.I)
        ):
            return i
        # Outlook: a block of "From:", "Sent:", "To:", "Subject:" lines.
        if _HEADER_FIELD.match(row) and row.lower().lstrip().startswith(("from", "von", "de")):
            following = [r for r in rows[i + 1 : i + 5] if r.strip()]
            if sum(1 for r in following if _HEADER_FIELD.match(r)) >= 2:
                return i
    return None


def join_lines(view: TextView, lines: Sequence[Line]) -> TextView:
    """The given lines of ``view``, joined by newlines (runs of blank lines folded),
    each character keeping its original span."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous_blank = True
    for ln in lines:
        segment = view.text[ln.start : ln.end]
        blank = not segment.strip()
        if blank and previous_blank:
            continue
        if chars:
            anchor = view.starts[ln.start] if ln.end > ln.start else starts[-1]
            chars.append("\n")
            starts.append(anchor)
            ends.append(anchor)
        chars.extend(segment)
        starts.extend(view.starts[ln.start : ln.end])
        ends.extend(view.ends[ln.start : ln.end])
        previous_blank = blank
    while chars and chars[-1].isspace():
        chars.pop()
        starts.pop()
        ends.pop()
    return TextView("".join(chars), tuple(starts), tuple(ends))
