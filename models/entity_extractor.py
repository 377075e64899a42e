"""Entities in support messages: order, invoice and tracking numbers, contacts, money, dates.

Rules, not a learned tagger: identifiers follow formats and anchor words ("order no.",
"invoice #", "tracking"), and a wrong order number is worse than none. Every pattern
proposes candidates with a priority; overlaps are resolved so that a price, a date or a
phone number never becomes an order number, and a bare digit string with no anchor is
left alone.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from rapidfuzz.distance import OSA

ENTITY_TYPES: Final = (
    "email",
    "url",
    "money",
    "date",
    "tracking_number",
    "invoice_id",
    "order_id",
    "phone",
)
# Lower wins when candidates overlap.
_PRIORITY: Final = {name: rank for rank, name in enumerate(ENTITY_TYPES)}


@dataclass(frozen=True)
class Entity:
    """One entity: ``text[start:end] == value`` in the text it was found in.

    ``source`` names that text: the message body (``text``) or its ``subject``.
    """

    type: str
    value: str
    start: int
    end: int
    source: str = "text"


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_DATE_PATTERNS: Final = (
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"),
    re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})\b"),
    re.compile(r"(?<![\d/])\b(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])\b(?![/\d])"),
    re.compile(
        rf"\b{_MONTH}\.?\s{{1,4}}+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s{{1,4}}+\d{{4}}\b)?",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s{{1,4}}+(?:of\s{{1,4}}+)?{_MONTH}\b\.?"
        rf"(?:,?\s{{1,4}}+\d{{4}}\b)?",
        re.IGNORECASE,
    ),
    re.compile(rf"\b(?:(?:last|next|this)\s{{1,4}}+)?{_WEEKDAY}\b", re.IGNORECASE),
    re.compile(r"\b(?:yesterday|today|tomorrow|tonight)\b", re.IGNORECASE),
)
#: An e-mail address (the one pattern for finding, checking and hiding addresses). Every
#: part is bounded (RFC 5321: 64-character local part, 63-character labels) so that a run
#: like ``1.1.1.1...`` costs a constant per position instead of a rescan to its end.
EMAIL_ADDRESS: Final = re.compile(
    r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
)
_URL: Final = re.compile(r"\bhttps?://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+", re.IGNORECASE)
_CURRENCY_WORD = r"(?:dollars?|bucks|euros?|pounds?|usd|eur|gbp|cad|aud|chf)"
# Bounded groups: a long run of "111 111 111" must not be re-read from every group.
_AMOUNT = r"(?:\d{1,3}(?:[,.\s]\d{3}){1,6}(?:[.,]\d{1,2})?|\d{1,15}(?:[.,]\d{1,2})?)"
_MONEY: Final = (
    re.compile(rf"(?:[$€£¥]|\b(?:US\$|USD|EUR|GBP|CAD|AUD|CHF)\s?)\s?(?:{_AMOUNT})(?!\d)", re.I),
    re.compile(rf"(?<![\w.,]){_AMOUNT}\s?(?:[$€£]|{_CURRENCY_WORD}\b)", re.IGNORECASE),
)

# Identifier shapes. Digits are required; letters may lead ("AB-12345", "ORD_77812"); dashes
# only between alphanumerics. Runs are possessive and bounded, and a longer token is no
# identifier at all (never a truncated one): so no run is read more than a constant number
# of times, whatever the text.
_ID = (
    r"#?(?:[A-Z]{1,5}[-_]?|[A-Za-z]{1,5}[-_])?"
    r"\d[\dA-Za-z]{0,40}+(?:-{1,3}+[\dA-Za-z]{1,40}+){0,8}+(?![\dA-Za-z])"
)
# Up to four connectors ("no.", "number:", "#") between an anchor word and the identifier.
# The old ``(?:\s*(?:no|...))*\s*`` could share a run of ``no: no:`` out between its two
# ``\s*`` in exponentially many ways (10.5 s for 20,000 characters); now the blanks are
# possessive and the count bounded, so at most five ways are tried.
_CONNECT = (
    r"(?:\s{0,20}+(?:no\b\.?|nr\b\.?|num\b\.?|number\b|id\b|code\b|ref\b\.?|reference\b|is\b|"
    r"was\b|#(?=\s)|:|,|-(?=\s))){0,4}\s{0,20}+"
)
_ORDER_KEYS: Final = frozenset(
    {"order", "orders", "purchase", "purchases", "ord", "po", "booking", "confirmation"}
)
# A word, then connectors, then an identifier; the word is checked with typo tolerance.
_ANCHORED: Final = re.compile(
    rf"(?<![A-Za-z])(?P<kw>[A-Za-z]{{2,14}})(?:{_CONNECT}|(?=\d))(?P<id>{_ID})"
)
# Words one edit away from a key that mean something else.
_NOT_KEYS: Final = frozenset({"older", "border", "folder", "holder", "odder", "bolder", "powder"})
_GLUE: Final = frozenset({"the", "my", "is", "an", "of", "your", "this", "our", "for", "a"})
_ORDER_PREFIXED: Final = re.compile(
    r"\b(?P<id>(?:ord|order|po|so)[-_][A-Za-z0-9]*\d{3,}[A-Za-z0-9]*)\b", re.IGNORECASE
)
_HASH_ID: Final = re.compile(r"(?<![\w#&])(?P<id>#[A-Za-z]{0,4}-?\d{4,}[A-Za-z0-9]*)\b")
_INVOICE_KEYS: Final = frozenset(
    {"invoice", "invoices", "bill", "bills", "receipt", "receipts", "inv"}
)
_INVOICE_PREFIXED: Final = re.compile(r"\b(?P<id>INV[-_]?\d[\d-]{2,}\d)\b", re.IGNORECASE)
_TRACKING_KEY = (
    r"(?:tracking|track|trace|tracer|shipment|consignment|waybill|awb|parcel|package|"
    r"ups|usps|fedex|dhl|royal\s+mail)"
)
_TRACKING_ANCHORED: Final = re.compile(
    rf"\b{_TRACKING_KEY}(?:{_CONNECT}|(?=\d))(?P<id>[A-Za-z0-9]{{8,34}})\b", re.IGNORECASE
)
_TRACKING_FORMATS: Final = (
    re.compile(r"\b(?P<id>1Z[0-9A-Z]{16})\b"),  # UPS
    re.compile(r"\b(?P<id>[A-Z]{2}\d{9}[A-Z]{2})\b"),  # UPU S10 (postal services)
    re.compile(r"\b(?P<id>9[1-5]\d{18,24})\b"),  # USPS
)
_PHONE: Final = re.compile(r"(?<![\w#$€£+])(?:\+|00)?\(?\d[\d\s().-]{6,20}\d(?![\w])")
_PHONE_CONTEXT: Final = re.compile(
    r"\b(?:call|phone|tel|telephone|mobile|cell|cellphone|whatsapp|text me|reach me|"
    r"contact me|ring me|number)\b[^.\n]{0,20}$",
    re.IGNORECASE,
)
_GROUPED_PHONE: Final = re.compile(
    r"^(?:\+|00)?(?:\d{1,3}[\s.-])?\(?\d{2,4}\)?[\s.-]\d{3,4}[\s.-]\d{3,4}$"
)
_MIN_ID_DIGITS = 4
_LIST_TAIL: Final = re.compile(
    rf"\s{{0,20}}+(?:,|&|and|or|\+)\s{{0,20}}+(?P<id>#?\d{{{_MIN_ID_DIGITS},40}}+)\b"
)


def order_ids_of(entities: Iterable[Entity]) -> tuple[str, ...]:
    """The order numbers among ``entities``, each once, in order, without ``#``: the one
    rule for "which orders does this message mean" (it needs an anchor and never takes a
    price, date or phone number)."""
    seen: dict[str, None] = {}
    for entity in entities:
        if entity.type == "order_id":
            cleaned = entity.value.strip().lstrip("#").strip()
            if cleaned:
                seen.setdefault(cleaned, None)
    return tuple(seen)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def is_key_word(word: str, keys: frozenset[str], *, min_len: int = 4) -> bool:
    """``word`` is one of ``keys``, a typo of one ("purhcase"), or one glued on ("theorder")."""
    word = word.lower()
    if word in keys:
        return True
    if word in _NOT_KEYS or len(word) < min_len:
        return False
    for key in keys:
        if len(key) < 4:
            continue
        if word.endswith(key) and word[: -len(key)] in _GLUE:
            return True
        # Optimal string alignment: Levenshtein plus adjacent transpositions ("purhcase").
        limit = 1 if len(key) <= 5 else 2
        if OSA.distance(word, key, score_cutoff=limit) <= limit:
            return True
    return False


def _looks_like_date(token: str) -> bool:
    return any(p.fullmatch(token.lstrip("#")) for p in _DATE_PATTERNS[:3])


def select_non_overlapping(candidates: Iterable[Entity]) -> list[Entity]:
    """Each candidate in turn unless it overlaps one already taken; sorted by position.

    The taken spans are disjoint, so sorted by start they are sorted by end too, and one
    binary search finds the only span a candidate could overlap first: O(n log n)
    comparisons where checking every taken span was quadratic (44 M calls on a hostile
    20,000-character message).
    """
    starts: list[int] = []
    ends: list[int] = []
    taken: list[Entity] = []
    for cand in candidates:
        # The first taken span ending after the candidate starts is the only one to check:
        # every later one starts after it ends.
        i = bisect.bisect_right(ends, cand.start)
        if i < len(starts) and starts[i] < cand.end:
            continue
        starts.insert(i, cand.start)
        ends.insert(i, cand.end)
        taken.insert(i, cand)
    return taken


class EntityExtractor:
    """Finds entities with offsets in the text it is given. Pure and thread-safe."""

    def extract(self, text: str) -> list[Entity]:
        """All non-overlapping entities in ``text``, sorted by position."""
        candidates = sorted(
            self._candidates(text),
            key=lambda e: (_PRIORITY[e.type], -(e.end - e.start), e.start),
        )
        return select_non_overlapping(candidates)

    def _candidates(self, text: str) -> Iterator[Entity]:
        for m in EMAIL_ADDRESS.finditer(text):
            yield self._entity("email", text, m.start(), m.end())
        for m in _URL.finditer(text):
            end = m.end()
            while end > m.start() and text[end - 1] in ".,;:!?":
                end -= 1
            yield self._entity("url", text, m.start(), end)
        for pattern in _MONEY:
            for m in pattern.finditer(text):
                yield self._entity("money", text, m.start(), m.end())
        for pattern in _DATE_PATTERNS:
            for m in pattern.finditer(text):
                yield self._entity("date", text, m.start(), m.end())
        for pattern in (*_TRACKING_FORMATS, _TRACKING_ANCHORED):
            for m in pattern.finditer(text):
                if _digits(m.group("id")) >= 6:
                    yield self._entity("tracking_number", text, m.start("id"), m.end("id"))
        yield from self._anchored(text)
        for m in _INVOICE_PREFIXED.finditer(text):
            yield from self._identifier(text, "invoice_id", m.start("id"), m.end("id"))
        for m in _ORDER_PREFIXED.finditer(text):
            yield from self._identifier(text, "order_id", m.start("id"), m.end("id"))
        for m in _HASH_ID.finditer(text):
            before = text[max(0, m.start() - 30) : m.start()].lower()
            if re.search(r"\b(?:ticket|case|ref|reference|tracking|room)\b", before):
                continue
            words = re.findall(r"[a-z]+", before)[-3:]
            invoice = any(is_key_word(w, _INVOICE_KEYS, min_len=3) for w in words)
            kind = "invoice_id" if invoice else "order_id"
            yield self._entity(kind, text, m.start("id"), m.end("id"))
        for m in _PHONE.finditer(text):
            yield from self._phone(text, m.start(), m.end())

    def _anchored(self, text: str) -> Iterator[Entity]:
        # Not finditer: when a word is no anchor, the search resumes right after that word,
        # so "cancelling order732201349959" still finds the anchor "order".
        pos = 0
        while (m := _ANCHORED.search(text, pos)) is not None:
            word = m.group("kw").lower()
            if word in _INVOICE_KEYS:
                yield from self._identifier(text, "invoice_id", m.start("id"), m.end("id"))
            elif is_key_word(word, _ORDER_KEYS):
                yield from self._identifier(text, "order_id", m.start("id"), m.end("id"))
            else:
                pos = m.end("kw")
                continue
            pos = m.end("id")

    def _identifier(self, text: str, kind: str, start: int, end: int) -> Iterator[Entity]:
        token = text[start:end]
        if _digits(token) < _MIN_ID_DIGITS or _looks_like_date(token):
            return
        yield self._entity(kind, text, start, end)
        # "orders 4411829 and 4411830": list continuations share the anchor.
        follow = _LIST_TAIL.match(text, end)
        while follow is not None:
            yield self._entity(kind, text, follow.start("id"), follow.end("id"))
            follow = _LIST_TAIL.match(text, follow.end())

    def _phone(self, text: str, start: int, end: int) -> Iterator[Entity]:
        # Trim trailing separators the character class swallowed ("555-1234)." etc.).
        while end > start and not text[end - 1].isdigit():
            end -= 1
        token = text[start:end]
        if token.count("(") != token.count(")"):
            token = token.lstrip("(")
            start = end - len(token)
        n = _digits(token)
        if not 7 <= n <= 15 or _looks_like_date(token):
            return
        international = token.startswith(("+", "00"))
        grouped = _GROUPED_PHONE.match(token) is not None
        context = _PHONE_CONTEXT.search(text[max(0, start - 40) : start]) is not None
        if international or (grouped and n >= 9) or (context and n >= 9):
            yield self._entity("phone", text, start, end)

    @staticmethod
    def _entity(kind: str, text: str, start: int, end: int) -> Entity:
        return Entity(type=kind, value=text[start:end], start=start, end=end)
