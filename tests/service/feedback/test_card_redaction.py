"""Card numbers never reach the feedback tables."""

from __future__ import annotations

import pytest

from service.feedback.card_redaction import CARD_PLACEHOLDER, luhn_valid, redact_card_numbers


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "378282246310005",  # 15-digit Amex
        "3782 822463 10005",
        "4222222222222",  # 13 digits
        "6304000000000000018",  # 19 digits (Maestro test number)
    ],
)
def test_luhn_valid_card_numbers_are_removed(card: str) -> None:
    redacted = redact_card_numbers(f"I paid with {card}, please check.")
    assert redacted == f"I paid with {CARD_PLACEHOLDER}, please check."


@pytest.mark.parametrize(
    "text",
    [
        "order 4411829 is late",
        "call me on +31 6 1234 5678",
        "reference 4111111111111112",  # fails the Luhn check
        "tracking PP7730194412",
        "123456789012",  # 12 digits
    ],
)
def test_other_numbers_stay(text: str) -> None:
    assert redact_card_numbers(text) == text


def test_card_number_next_to_other_digits_is_still_found() -> None:
    redacted = redact_card_numbers("card 4111 1111 1111 1111 99 expired")
    assert "4111" not in redacted and CARD_PLACEHOLDER in redacted and "99 expired" in redacted


def test_luhn() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
