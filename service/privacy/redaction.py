"""Replaces e-mail addresses, IBANs, payment card numbers and phone numbers in text with
placeholders (``[email]``, ``[iban]``, ``[card]``, ``[phone]``) before it is stored, logged
or exported.

Placeholders carry no offsets or lengths, so nothing of the original leaks. Card numbers
(13-19 digits in groups of two or more, with any of space, dot, dash or slash between
groups, single or doubled) must have an issuer prefix that fits their length and pass the
Luhn check, and IBANs the ISO 13616 mod-97 check, so order numbers, tracking numbers and
amounts stay readable (on the Bitext requests none of 1,686 annotated order ids, invoice
ids, amounts and names is touched: ``bench/redaction_public_text.py``). Phone numbers are
recognised only when written like one (international ``+``/``00`` prefix, a trunk ``0``
with grouping, or ``(555) 123-4567``), never a bare run of digits such as an order number.

Every pattern is linear-time on hostile input: no nested unbounded quantifiers, every
repetition bounded, and matches may only start at a boundary (look-behind), so a long run
of digits or letters cannot make the engine retry from every position.
"""

from __future__ import annotations

import re
from typing import Final

EMAIL: Final = "[email]"
IBAN: Final = "[iban]"
CARD: Final = "[card]"
PHONE: Final = "[phone]"

_EMAIL: Final = re.compile(
    r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
    r"(?![\w-])"
)
# Country code, check digits, then 11-30 letters/digits, optionally in groups of up to 4.
_IBAN: Final = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?"
    r"(?![A-Za-z0-9])"
)
# A run of digit groups with short separators; which groups form a card is decided below.
_CARD_SEPARATOR = r"(?:[ \t]{1,2}|[ ]?[.\-/][ ]?)"
# Groups of at least two digits (real card layouts: 4-4-4-4, 4-6-5, 4-4-4-4-3), so a run of
# single digits costs nothing.
_DIGIT_RUN: Final = re.compile(
    rf"(?<![\w.\-/])\d{{2,19}}(?:{_CARD_SEPARATOR}\d{{2,19}}){{0,18}}(?![\w])"
)
_GROUP_SPLIT: Final = re.compile(r"(\D+)")
_PHONE: Final = re.compile(
    r"(?<![\w+(])(?:"
    # International: +31 6 1234 5678, 0044 20 7946 0958, +1 (555) 123-4567
    r"(?:\+|00)[1-9]\d{0,2}(?:[ .\-]{1,2}(?:\(\d{1,5}\)|\d{1,5})){1,6}"
    r"|\+[1-9]\d{7,13}|00[1-9]\d{7,12}"
    # National with a trunk 0 and grouping: 06 1234 5678, 020-7946-0958, (020) 7946 0958
    # (a trunk 0 is followed by a non-zero digit: 0004587345 is a reference, not a phone)
    r"|(?:\(0[1-9]\d{0,3}\)|0[1-9]\d{0,3})(?:[ .\-]{1,2}\d{2,8}){1,4}|0[1-9]\d{8,9}"
    # North American: (555) 123-4567, 555-123-4567
    r"|\(\d{3}\)[ ]?\d{3}[ .\-]\d{4}|\d{3}[.\-]\d{3}[.\-]\d{4}"
    r")(?![\w])"
)
#: Fewer digits is more likely a date (01.12.2026) or a reference than a phone number.
_MIN_PHONE_DIGITS = 9


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string holds."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_like(digits: str) -> bool:
    """The number has a card's length for its issuer prefix and passes the Luhn check.

    Luhn alone passes one random number in ten (order ids such as 113542617735902 would);
    issuer prefixes rule most of those out: Visa 4 (13, 16, 19 digits), Mastercard 51-55
    and 2221-2720, Amex 34/37 (15), Diners 30/36/38/39 (14-19), Discover/UnionPay/Maestro
    and JCB 35, 5, 6 (16-19).
    """
    n, first = len(digits), digits[0]
    if n == 15:
        brand = digits[:2] in ("34", "37")
    elif n == 13:
        brand = first == "4"
    elif n == 14:
        brand = digits[:2] in ("30", "36", "38", "39")
    else:
        brand = first in "23456"
    return brand and luhn_valid(digits)


def iban_valid(candidate: str) -> bool:
    """ISO 13616: 15-34 characters whose mod-97 check (letters as 10-35) is 1."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _cards_in_run(run: str) -> str:
    """``run`` (digit groups and separators) with every Luhn-valid window of whole groups
    holding 13-19 digits replaced; windows are tried longest first from the left."""
    parts = _GROUP_SPLIT.split(run)
    groups, seps = parts[::2], parts[1::2]
    out: list[str] = []
    i = 0
    while i < len(groups):
        found = 0
        digits = 0
        # At most 9 groups of 2+ digits hold 19 digits: bounded work per start.
        for j in range(i, min(len(groups), i + 9)):
            digits += len(groups[j])
            if digits > 19:
                break
            if digits >= 13 and card_like("".join(groups[i : j + 1])):
                found = j + 1
        if found:
            out.append(CARD)
            i = found
        else:
            out.append(groups[i])
            i += 1
        if i < len(groups):
            out.append(seps[i - 1])
    return "".join(out)


def _card(match: re.Match[str]) -> str:
    return _cards_in_run(match.group(0))


def _iban(match: re.Match[str]) -> str:
    text = match.group(0)
    # A word after the number may have been taken as its last group: try without it.
    head, _, tail = text.rpartition(" ")
    if iban_valid(text):
        return IBAN
    if head and iban_valid(head):
        return f"{IBAN} {tail}"
    return text


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    return PHONE if sum(c.isdigit() for c in text) >= _MIN_PHONE_DIGITS else text


def redact(text: str) -> str:
    """``text`` with e-mail addresses, IBANs, card numbers and phone numbers replaced."""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_iban, text)
    text = _DIGIT_RUN.sub(_card, text)
    return _PHONE.sub(_phone, text)


def redact_optional(text: str | None) -> str | None:
    """``redact`` that passes ``None`` through."""
    return redact(text) if text is not None else None
