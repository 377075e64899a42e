"""Urgency signals: elapsed time, amounts, cue families and the reasons they produce."""

from __future__ import annotations

import pytest

from models.entity_extractor import EntityExtractor
from models.urgency_classifier import explain
from models.urgency_signals import UrgencySignalExtractor, elapsed_days, parse_amount


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("my parcel is 9 days late", 9),
        ("I ordered 3 weeks ago and nothing", 21),
        ("been waiting for two weeks", 14),
        ("Day 18 of waiting for my order", 18),
        ("where is my order", None),
    ],
)
def test_elapsed_days(text: str, days: float | None) -> None:
    assert elapsed_days(text) == days


@pytest.mark.parametrize(
    ("value", "amount"),
    [("$1,450.00", 1450.0), ("2.300 EUR", 2300.0), ("1499 dollars", 1499.0), ("£35", 35.0)],
)
def test_parse_amount(value: str, amount: float) -> None:
    assert parse_amount(value) == amount


def _signals(text: str, *, prior: int = 0):  # type: ignore[no-untyped-def]
    entities = [e for e in EntityExtractor().extract(text) if e.type == "money"]
    return UrgencySignalExtractor().extract(text, entities=entities, prior_contacts=prior)


def test_unauthorized_charge_with_a_large_amount_reads_as_critical_reasons() -> None:
    signals = _signals("There is a payment of $2,300 to your shop that I never made.")
    assert "unauthorized_charge" in signals.fired
    reasons = explain("critical", signals)
    assert "mentions unauthorized charges" in reasons
    assert "mentions $2,300" in reasons


def test_late_delivery_reason_names_the_days() -> None:
    signals = _signals("Order 5520914 is now 9 days late, third time I write")
    reasons = explain("high", signals)
    assert reasons[0] == "delivery 9 days late"
    assert "repeat contact" in reasons


def test_history_repeat_contact_is_a_reason() -> None:
    reasons = explain("high", _signals("any update?", prior=2))
    assert reasons[0] == "repeat contact (2 earlier messages)"


def test_low_level_reasons_do_not_mention_alarm_cues() -> None:
    signals = _signals("Love the shop! Just an idea: more colours would be nice.")
    assert explain("low", signals) == ("feedback or praise",)


def test_angry_tone_is_explained() -> None:
    signals = _signals("This is ridiculous, the parcel is lost and nobody answers")
    assert "angry tone" in explain("high", signals)
