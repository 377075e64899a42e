"""Entity extraction: identifiers in many shapes, never a price, date or phone as an order."""

from __future__ import annotations

import pytest

from models.entity_extractor import Entity, EntityExtractor


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor()


def _of(entities: list[Entity], kind: str) -> list[str]:
    return [e.value for e in entities if e.type == kind]


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("Where is #4411829?", "#4411829"),
        ("I placed order no. AB-12345 last week", "AB-12345"),
        ("can I still edit purchase 00004587345", "00004587345"),
        ("refund for ord_77812 please", "ord_77812"),
        ("Order number: 77120045 has not shipped", "77120045"),
        ("cancelling order732201349959", "732201349959"),
        ("need to modify my purhcase 3707955617", "3707955617"),
    ],
)
def test_order_numbers_in_many_shapes(extractor: EntityExtractor, text: str, order: str) -> None:
    found = extractor.extract(text)
    assert _of(found, "order_id") == [order]
    (entity,) = [e for e in found if e.type == "order_id"]
    assert text[entity.start : entity.end] == order


def test_prices_phones_and_dates_next_to_an_order_are_not_orders(
    extractor: EntityExtractor,
) -> None:
    text = (
        "Order #4411829 cost $249.99 on 2025-03-02, call me on +44 20 7946 0958 or "
        "555-201-3344. I paid 1499 dollars in total."
    )
    found = extractor.extract(text)
    assert _of(found, "order_id") == ["#4411829"]
    assert _of(found, "money") == ["$249.99", "1499 dollars"]
    assert _of(found, "date") == ["2025-03-02"]
    assert _of(found, "phone") == ["+44 20 7946 0958", "555-201-3344"]


def test_phone_number_with_a_number_word_is_a_phone_not_an_order(
    extractor: EntityExtractor,
) -> None:
    found = extractor.extract("my phone number is 5552013344 and my order number is 7788990011")
    assert _of(found, "phone") == ["5552013344"]
    assert _of(found, "order_id") == ["7788990011"]


def test_bare_digits_without_an_anchor_are_left_alone(extractor: EntityExtractor) -> None:
    assert extractor.extract("I bought 3 items and 12345 people liked it") == []


def test_short_numbers_after_order_are_quantities(extractor: EntityExtractor) -> None:
    assert _of(extractor.extract("an order of 3 items for 2 people"), "order_id") == []


def test_invoice_tracking_and_email(extractor: EntityExtractor) -> None:
    text = (
        "Invoice INV-2024-0042 and bill #00108 are wrong. Tracking: 1Z999AA10123456784, "
        "postal LX123456789CN. Write to jane.doe+shop@mail.example.com"
    )
    found = extractor.extract(text)
    assert _of(found, "invoice_id") == ["INV-2024-0042", "#00108"]
    assert _of(found, "tracking_number") == ["1Z999AA10123456784", "LX123456789CN"]
    assert _of(found, "email") == ["jane.doe+shop@mail.example.com"]
    assert _of(found, "order_id") == []


def test_order_lists_share_their_anchor(extractor: EntityExtractor) -> None:
    found = extractor.extract("orders 1234567 and 7654321 are both late")
    assert _of(found, "order_id") == ["1234567", "7654321"]


def test_dates_in_words(extractor: EntityExtractor) -> None:
    found = extractor.extract("It was due on March 3rd, 2025, then 12/03/2025, now tomorrow.")
    assert _of(found, "date") == ["March 3rd, 2025", "12/03/2025", "tomorrow"]


def test_ticket_numbers_are_not_orders(extractor: EntityExtractor) -> None:
    assert _of(extractor.extract("re your ticket #55555"), "order_id") == []
