"""Turn a real support message (HTML, quoted replies, signatures) into the text to classify.

Tickets arrive as e-mails: HTML bodies, the whole earlier thread quoted below the new
text, a signature with a phone number and a legal disclaimer. Classifiers should see
only what the customer wrote this time, yet entity offsets must still point into the
text the helpdesk sent. So every character of every derived view carries the span of
the original text it came from, and :meth:`TextView.original_span` maps offsets back.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

# -- HTML ---------------------------------------------------------------------------

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


# -- Lines: body, quote, signature, disclaimer -------------------------------------------


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
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many|with)?\s*(?:regards|wishes)|best|cheers|thanks|"
    r"thank you|thanks again|many thanks|thanks in advance|thx|sincerely|"
    r"yours(?: truly| sincerely)?|"
    r"br|rgds|respectfully|take care|talk soon)\s*[,.!]*\s*(?:[A-Z][\w.'-]*\s*){0,3}$",
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


# -- Segments and the message as a whole ------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9#])")
_WORD = re.compile(r"\w+", re.UNICODE)
_REQUEST_CUE = re.compile(
    r"\?|\b(?:please|pls|plz|kindly|can you|could you|would you|will you|i want|i need|"
    r"i'd like|i would like|i wish to|need to|want to|help|how (?:do|can|long)|where (?:is|are)|"
    r"when (?:will|do|is)|why (?:is|was|did|have)|refund|cancel|return|charge|charged|"
    r"still|never|not (?:arrived|received|working)|urgent|asap|immediately)\b",
    re.IGNORECASE,
)
_PLEASANTRY = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|hope you|i hope|"
    r"thanks|thank you|many thanks|have a (?:nice|great|good)|i have been a (?:loyal )?customer|"
    r"i am writing|i'm writing|this is \w+ (?:from|here))\b",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|tr|sv)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Segment:
    """A sentence-like piece of the body with its view offsets and request-likeness."""

    start: int
    end: int
    text: str
    request_score: float


@dataclass(frozen=True)
class CleanedMessage:
    """A message split into what the customer wrote now and everything else."""

    original: str
    subject: str
    visible: TextView
    lines: tuple[Line, ...]
    body: TextView
    segments: tuple[Segment, ...]
    is_html: bool

    def view(self, kinds: Iterable[LineKind]) -> TextView:
        """The lines of the given kinds, joined by newlines, with original offsets."""
        wanted = set(kinds)
        return _join_lines(self.visible, [ln for ln in self.lines if ln.kind in wanted])

    @property
    def removed(self) -> dict[str, int]:
        """How many non-empty lines of each removed kind were dropped."""
        counts: dict[str, int] = {}
        for ln in self.lines:
            if ln.kind is not LineKind.BODY and ln.end > ln.start:
                counts[ln.kind.value] = counts.get(ln.kind.value, 0) + 1
        return counts

    def focus_text(self, *, max_words: int = 150) -> str:
        """Subject plus body, or, for long bodies, the most request-like sentences.

        The encoder reads 256 word pieces at most, so a long e-mail would otherwise be cut
        after its greeting and backstory. Sentences are ranked by request-likeness and kept
        in their original order until the word budget is spent.
        """
        subject = self.subject
        body_words = len(_WORD.findall(self.body.text))
        if body_words <= max_words or len(self.segments) <= 1:
            body = " ".join(self.body.text.split())
            return _join_subject(subject, body)
        budget = max_words - len(_WORD.findall(subject))
        ranked = sorted(
            range(len(self.segments)), key=lambda i: (-self.segments[i].request_score, i)
        )
        chosen: list[int] = []
        used = 0
        for i in ranked:
            n = len(_WORD.findall(self.segments[i].text))
            if chosen and (used + n > budget or self.segments[i].request_score < 0):
                continue
            chosen.append(i)
            used += n
            if used >= budget:
                break
        body = " ".join(" ".join(self.segments[i].text.split()) for i in sorted(chosen))
        return _join_subject(subject, body)


def _join_subject(subject: str, body: str) -> str:
    if subject and subject.lower() not in body.lower():
        return f"{subject}\n{body}" if body else subject
    return body or subject


def _join_lines(view: TextView, lines: Sequence[Line]) -> TextView:
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


def split_segments(text: str) -> list[Segment]:
    """Sentences and list items of ``text`` with a request-likeness score each."""
    segments = []
    for para in re.finditer(r"[^\n]+", text):
        offset = para.start()
        pieces = _SENTENCE_END.split(para.group())
        cursor = 0
        for piece in pieces:
            local = para.group().find(piece, cursor)
            cursor = local + len(piece)
            stripped = piece.strip()
            if not stripped:
                continue
            start = offset + local + (len(piece) - len(piece.lstrip()))
            segments.append(
                Segment(start, start + len(stripped), stripped, _request_score(stripped))
            )
    return segments


def _request_score(sentence: str) -> float:
    score = float(len(_REQUEST_CUE.findall(sentence)))
    if re.search(r"#?\b[A-Z]{0,4}[-_]?\d{4,}\b|[$€£]\s?\d", sentence):
        score += 1.0
    if _PLEASANTRY.match(sentence) and score < 2:
        score -= 2.0
    if len(_WORD.findall(sentence)) < 3:
        score -= 1.0
    return score


class MessageCleaner:
    """Strips HTML, quoted history, signatures and disclaimers; keeps original offsets."""

    def clean(self, text: str, *, subject: str | None = None) -> CleanedMessage:
        """Split ``text`` into body, quotes, signature and disclaimer lines."""
        is_html = looks_like_html(text)
        if is_html:
            visible, quoted = html_to_view(text)
        else:
            normalised = text.replace("\r\n", " \n").replace("\r", "\n")
            visible = TextView(normalised, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
            quoted = None
        lines = tuple(classify_lines(visible.text, quoted))
        body = _join_lines(visible, [ln for ln in lines if ln.kind is LineKind.BODY])
        clean_subject = _REPLY_PREFIX.sub("", " ".join((subject or "").split()))
        return CleanedMessage(
            original=text,
            subject=clean_subject,
            visible=visible,
            lines=lines,
            body=body,
            segments=tuple(split_segments(body.text)),
            is_html=is_html,
        )
