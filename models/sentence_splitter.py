"""Splitting text into sentence spans: one algorithm, and the boundary rule of each text kind.

Every splitter in the project cuts a text at the matches of a boundary pattern, keeps the
pieces between them trimmed of white space and drops blank ones; a closing quote or
bracket the pattern captures as ``close`` stays with the sentence before it, and a match
right after an abbreviation ("e.g.") is no boundary. What differs between text kinds is
only where a sentence may end, so that is all each rule below states:

- ``PROSE``: help-centre articles, which drafts quote sentence by sentence (a sentence
  may start with a currency sign: "€3.95 ...").
- ``MESSAGE``: customer messages ("#4411829 never arrived." starts a sentence).
- ``CITED``: an LLM's draft, whose sentences end after their ``[n]`` markers.
- ``CHUNK_CUTS``: where the knowledge-base chunker may cut a long paragraph: any
  sentence, clause (``:``/``;``) or line start. These are cut points, not sentences.
- ``PARAGRAPHS``: the pieces between blank lines, which the chunker packs first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SentenceRule:
    """Where sentences of one kind of text end.

    Args:
        boundary: matches the gap between two sentences; an optional ``close`` group
            (closing quotes or brackets) belongs to the sentence before the gap.
        abbreviations: lower-case words ending in a full stop after which a boundary
            does not count ("e.g.", "no.").
    """

    boundary: re.Pattern[str]
    abbreviations: frozenset[str] = frozenset()

    def spans(self, text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        """``(start, end)`` of each sentence of ``text[start:end]``, trimmed; blank ones
        are left out."""
        stop = len(text) if end is None else end
        cuts: list[tuple[int, int]] = []
        cursor = start
        for match in self.boundary.finditer(text, start, stop):
            if self.abbreviations and self._after_abbreviation(text, cursor, match.start()):
                continue
            close = match.group("close") if "close" in self.boundary.groupindex else None
            cuts.append((cursor, match.start() + len(close or "")))
            cursor = match.end()
        cuts.append((cursor, stop))
        return [trimmed for a, b in cuts if (trimmed := _trim(text, a, b)) is not None]

    def split(self, text: str) -> list[str]:
        """The sentences of ``text``."""
        return [text[a:b] for a, b in self.spans(text)]

    def split_lines(self, text: str) -> list[str]:
        """The sentences of ``text``, a line break always ending one (chat turns and
        e-mails break lines where punctuation is missing)."""
        return [sentence for line in text.splitlines() for sentence in self.split(line)]

    def _after_abbreviation(self, text: str, start: int, end: int) -> bool:
        words = text[start:end].lower().split()
        return bool(words) and words[-1].lstrip("(\"'") in self.abbreviations


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    return (start + lead, end - trail) if end - trail > start + lead else None


PROSE = SentenceRule(
    re.compile(r"(?<=[.!?])(?P<close>[\"'”’)]?)\s+(?=[\"“'(]?[A-Z0-9€£$])"),
    frozenset({"e.g.", "i.e.", "etc.", "approx.", "no.", "nr.", "vs.", "incl.", "min."}),
)
MESSAGE = SentenceRule(re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9#])"))
CITED = SentenceRule(re.compile(r"(?<=[.!?\]])[ \t]+(?=[^\[\s])|\n+"))
CHUNK_CUTS = SentenceRule(re.compile(r"(?<=[.!?:;])\s+(?=\S)|\n(?=\S)"))
PARAGRAPHS = SentenceRule(re.compile(r"\n[ \t]*\n"))
