"""The emergencies the helpdesk must never leave in a queue, described in plain words.

*Critical* means one of these situations, not a topic: an account, payment or refund
question is routine, and anger alone is at most *high*. A billing mistake by the company
(charged twice, a wrong bill, charged after cancelling) is not money taken without
consent, which is for payments the customer never made or authorised; being locked out
after losing the 2FA phone is not a takeover, which needs a stranger's action; property
damage without harm to a person is not an emergency (issue 10's rubric). Each situation has a short
phrase (shown in the urgency reasons) and several descriptions written the way the
situation is told, not as keywords; the encoder embeds the descriptions once at training
time and the emergency detector reads a message's similarity to each situation next to
its embedding (``models/emergency_detector.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Situation:
    """One kind of emergency: its name, the reason phrase and plain-word descriptions."""

    name: str
    phrase: str
    descriptions: tuple[str, ...]


SITUATIONS: Final = (
    Situation(
        "harm_to_person",
        "a person was hurt",
        (
            "someone was hurt or injured because of the product or the service",
            "my child was injured and is in hospital after the product broke",
            "a person fell and broke a bone because something gave way",
            "the staff or the driver injured someone",
            "I got burned, cut or an electric shock using it",
        ),
    ),
    Situation(
        "medical_need",
        "urgent medical need",
        (
            "I urgently need my medicine and it has not arrived, I am running out",
            "a person who depends on medical equipment has no power, water or phone",
            "someone is ill and needs help right now and cannot get it",
            "my prescription medication is delayed and I have almost none left",
            "a vulnerable elderly person is left without care or heating",
        ),
    ),
    Situation(
        "unsafe_product",
        "unsafe product",
        (
            "the product is dangerous: it overheated, smoked, sparked or caught fire",
            "the product is not safe to use and could hurt someone",
            "the battery is swelling, leaking or getting very hot",
            "the food was contaminated and made someone sick",
            "a safety part such as the brakes or the lock does not work",
            "there is a smell of gas or burning after the work was done",
        ),
    ),
    Situation(
        "money_taken",
        "money taken without consent",
        (
            "there is a payment on my card that I did not make",
            "a stranger took money from my account without my permission",
            "orders were placed with my card by someone who is not me",
            "a loan or contract was opened in my name that I never applied for",
            "a fake caller pretending to be you got my details and money has gone",
            "fraudulent transactions on my account",
        ),
    ),
    Situation(
        "account_takeover",
        "account taken over",
        (
            "someone else got into my account and changed the password or email",
            "a stranger changed the phone number or two-factor login on my account",
            "my account was hacked and orders were placed that I did not make",
            "my phone number or SIM was moved to someone else without my consent",
            "a stranger is logged into my account",
        ),
    ),
    Situation(
        "data_leak",
        "personal data exposed",
        (
            "I can see another customer's personal details, orders or address",
            "my personal information was sent to someone else",
            "your system leaked my data and it is now public",
            "a document with someone else's name, address and card details was sent to me",
        ),
    ),
    Situation(
        "legal_threat",
        "legal threat",
        (
            "I will take legal action and my lawyer will contact you",
            "I am reporting you to the regulator, the ombudsman or the police",
            "I am taking you to court over this",
            "this is formal notice before legal proceedings",
        ),
    ),
    Situation(
        "harassment_threat",
        "harassment or threat",
        (
            "a member of staff is harassing me and keeps contacting me",
            "the driver threatened me and I am scared for my safety",
            "someone is stalking me or sending threatening messages",
            "I was abused, pushed or intimidated by your employee",
        ),
    ),
)

SITUATION_NAMES: Final = tuple(s.name for s in SITUATIONS)


def situation_phrase(name: str) -> str:
    """The reason phrase of a situation (its name when unknown)."""
    for situation in SITUATIONS:
        if situation.name == name:
            return situation.phrase
    return name.replace("_", " ")
