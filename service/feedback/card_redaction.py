"""Removes payment card numbers from text before it is stored.

A card number is 13 to 19 digits, possibly grouped by single spaces or dashes, that
passes the Luhn check; order numbers and phone numbers of that length almost never do,
so they stay readable. Only the number is replaced, the rest of the message is kept.
"""

from __future__ import annotations

import re

CARD_PLACEHOLDER = "[card number removed]"
# Digits with optional single space/dash separators, not glued to other digits.
_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string holds."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def redact_card_numbers(text: str) -> str:
    """``text`` with every Luhn-valid 13-19 digit sequence replaced by a placeholder."""

    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return CARD_PLACEHOLDER
        # A card number followed or preceded by other digit groups ("4111 ... 1111 99"):
        # try the longest run of whole groups that is a valid card number.
        parts = re.split(r"([ -])", raw)
        groups, seps = parts[::2], parts[1::2]
        n = len(groups)
        for size in range(n - 1, 0, -1):
            for i in range(n - size + 1):
                run = "".join(groups[i : i + size])
                if 13 <= len(run) <= 19 and luhn_valid(run):
                    before = "".join(g + s for g, s in zip(groups[:i], seps[:i], strict=True))
                    after = "".join(
                        s + g for s, g in zip(seps[i + size - 1 :], groups[i + size :], strict=True)
                    )
                    return before + CARD_PLACEHOLDER + after
        return raw

    return _CANDIDATE.sub(replace, text)
