"""Turn a real support message (HTML, quoted replies, signatures) into the text to classify.

Tickets arrive as e-mails: HTML bodies, the whole earlier thread quoted below the new
text, a signature with a phone number and a legal disclaimer. Classifiers should see
only what the customer wrote this time, yet entity offsets must still point into the
text the helpdesk sent. :class:`MessageCleaner` puts three steps together: HTML to
offset-keeping text (``text_view``), line labels (``message_lines``) and, for long
messages, the request sentences (``request_sentences``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from models.message_lines import Line, LineKind, classify_lines, join_lines
from models.request_sentences import Segment, request_focus, split_segments, word_count
from models.text_view import TextView, html_to_view, looks_like_html

__all__ = ["CleanedMessage", "LineKind", "MessageCleaner"]

_REPLY_PREFIX = re.compile(r"^\s*+(?:(?:re|fwd?|aw|wg|tr|sv)\s*+:\s*+)+", re.IGNORECASE)


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
        return join_lines(self.visible, [ln for ln in self.lines if ln.kind in wanted])

    @property
    def removed(self) -> dict[str, int]:
        """How many non-empty lines of each removed kind were dropped."""
        counts: dict[str, int] = {}
        for ln in self.lines:
            if ln.kind is not LineKind.BODY and ln.end > ln.start:
                counts[ln.kind.value] = counts.get(ln.kind.value, 0) + 1
        return counts

    def focus_text(self, *, max_words: int = 150) -> str:
        """Subject plus body, or, for long bodies, the most request-like sentences (see
        ``request_sentences``) within ``max_words``."""
        subject = self.subject
        if word_count(self.body.text) <= max_words or len(self.segments) <= 1:
            return _join_subject(subject, " ".join(self.body.text.split()))
        body = request_focus(self.segments, budget=max_words - word_count(subject))
        return _join_subject(subject, body)


def _join_subject(subject: str, body: str) -> str:
    if subject and subject.lower() not in body.lower():
        return f"{subject}\n{body}" if body else subject
    return body or subject


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
        body = join_lines(visible, [ln for ln in lines if ln.kind is LineKind.BODY])
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
