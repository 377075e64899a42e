"""Urgency signals: elapsed time, amounts, cue families and the reasons they produce."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from models.entity_extractor import EntityExtractor
from models.urgency_classifier import explain
from models.urgency_signals import (
    _CUES,
    UrgencySignalExtractor,
    _letters_and_capitals,
    elapsed_days,
    lowered_cue_set,
    parse_amount,
)


def cues_ignoring_case(text: str) -> set[int]:
    """What the cue patterns find, each on its own, on the text as written."""
    return {i for i, cue in enumerate(_CUES) if cue.pattern.search(text)}


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


@pytest.mark.parametrize(
    "text",
    [
        "you absolute clowns, how hard is it to send an invoice",
        "this is a joke, I just want to change my email address",
        "I am absolutely furious that the size guide is missing",
        "WHY CAN'T I FIND THE NEWSLETTER SETTINGS ON THIS WEBSITE",
        "I will never buy from you again, the gift wrap was awful",
        "that's the last time I shop here, the checkout is a mess",
    ],
)
def test_strong_anger_fires_on_insults_rage_caps_and_threats_to_leave(text: str) -> None:
    signals = _signals(text)
    assert "strong_anger" in signals.fired
    reasons = explain("high", signals)
    assert "strong anger" in reasons
    assert "angry tone" not in reasons


@pytest.mark.parametrize(
    "text",
    [
        "bit annoying that i can't find the invoice button, where is it?",
        "ugh this is SO annoying, where is the order history",
        "WHY IS YOUR NEWSLETTER SO LONG LOL, anyway i love it",
        "lol your chatbot told me a joke, nice",
        "I'll definitely shop again, thanks!",
    ],
)
def test_mild_annoyance_and_jokes_are_not_strong_anger(text: str) -> None:
    assert "strong_anger" not in _signals(text).fired


def test_threat_to_leave_is_not_read_as_a_disowned_charge() -> None:
    signals = _signals("I will never buy from you again")
    assert "unauthorized_charge" not in signals.fired
    assert "strong_anger" in signals.fired


def test_strong_anger_survives_the_reason_limit() -> None:
    text = (
        "You idiots. The parcel is 9 days late, it arrived damaged, my card is declined, "
        "I can't log in and I need it tomorrow. Third time I write, get me a manager."
    )
    reasons = explain("high", _signals(text))
    assert len(reasons) == 5
    assert "strong anger" in reasons


@pytest.mark.parametrize(
    "text",
    [
        "is tomorrow's webinar recorded? i might not make it",
        "deadline for the photo competition? want to enter for fun",
        "are you open tomorrow?",
        "what time does the flight tomorrow board",
        "any events this weekend at the store?",
        "can i change my delivery to tomorrow morning",
    ],
)
def test_a_date_in_an_idle_question_is_no_deadline(text: str) -> None:
    assert "deadline" not in UrgencySignalExtractor().extract(text).fired


@pytest.mark.parametrize(
    "text",
    [
        "I need it by friday for the wedding",
        "the wedding is on saturday and the dress is torn",
        "we leave tomorrow morning and the passports are not here",
        "my bill is due today and the app crashes",
        "please sort this asap",
    ],
)
def test_time_running_out_for_a_need_is_a_deadline(text: str) -> None:
    assert "deadline" in UrgencySignalExtractor().extract(text).fired


@pytest.mark.parametrize(
    "text",
    [
        "I NEVER AUTHORIZED this CHARGE, Fraud! Contact My Bank",
        "Someone Logged Into my account, PASSWORD was changed and I didn't do it",
        "Charged TWICE after I Cancelled; my Lawyer will hear of this. URGENT asap",
        "The Heater caught FIRE, my kid is in Hospital. Wedding is on Saturday!",
        "Still Waiting, 3 Weeks Late. Third Time i've Emailed. Want a Manager. Idiots.",
        "Love the product, Thanks! Unsubscribe me from the Newsletter. How do I...?",
    ],
)
def test_cues_on_lower_cased_ascii_text_fire_as_ignoring_case(text: str) -> None:
    expected = cues_ignoring_case(text)
    assert expected  # every text here carries some cue
    assert {i for i, cue in enumerate(_CUES) if cue.lowered.search(text.lower())} == expected
    assert lowered_cue_set().fired(text.lower()) == expected


@pytest.mark.data
def test_the_cue_set_fires_as_each_pattern_on_public_text(shared_data: Path) -> None:
    texts = []
    for name, column in (
        ("bitext_customer_support.csv", "instruction"),
        ("banking77_train.csv", "text"),
        ("clinc150_train.csv", "text"),
    ):
        with (shared_data / name).open(encoding="utf-8", newline="") as handle:
            texts += [row[column] for row in itertools.islice(csv.DictReader(handle), 2000)]
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > 5000
    cues = lowered_cue_set()
    differing = [t for t in ascii_texts if cues.fired(t.lower()) != cues_ignoring_case(t)]
    assert differing == []
    assert sum(bool(cues_ignoring_case(t)) for t in ascii_texts) > 500  # cues do fire here


@pytest.mark.parametrize(
    "text", ["", "WHERE IS MY ORDER?!", "where Is my ORDER 4411829 :)", "ÄRGER ǅemal İstanbul ß"]
)
def test_letters_and_capitals_count_as_isalpha_and_isupper(text: str) -> None:
    letters = [ch for ch in text if ch.isalpha()]
    assert _letters_and_capitals(text) == (len(letters), sum(ch.isupper() for ch in letters))
