"""The sentences of a message that ask for something, for when a message is too long to read
whole.

The encoder reads 256 word pieces at most, so a long e-mail would be cut after its
greeting and backstory. Each sentence gets a request score (questions, "please", "refund",
an order number or an amount count for it; greetings and pleasantries against it) and
:func:`request_focus` keeps the best ones, in their original order, within a word budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from models.sentence_splitter import MESSAGE

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


@dataclass(frozen=True)
class Segment:
    """A sentence-like piece of the body with its view offsets and request-likeness."""

    start: int
    end: int
    text: str
    request_score: float


def split_segments(text: str) -> list[Segment]:
    """Sentences and list items of ``text`` (one line never spans two) with a
    request-likeness score each."""
    segments = []
    for line in re.finditer(r"[^\n]+", text):
        for start, end in MESSAGE.spans(text, line.start(), line.end()):
            sentence = text[start:end]
            segments.append(Segment(start, end, sentence, _request_score(sentence)))
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


def word_count(text: str) -> int:
    """Words as the focus budget counts them."""
    return len(_WORD.findall(text))


def request_focus(segments: Sequence[Segment], *, budget: int) -> str:
    """The most request-like segments, in their original order, until ``budget`` words
    are spent (the best one is always kept)."""
    ranked = sorted(range(len(segments)), key=lambda i: (-segments[i].request_score, i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        n = word_count(segments[i].text)
        if chosen and (used + n > budget or segments[i].request_score < 0):
            continue
        chosen.append(i)
        used += n
        if used >= budget:
            break
    return " ".join(" ".join(segments[i].text.split()) for i in sorted(chosen))
