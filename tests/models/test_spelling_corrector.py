"""Spelling corrector: typos move to a training word, real words and abbreviations stay."""

from __future__ import annotations

import pytest

from models.spelling_corrector import SpellingCorrector, english_words, word_counts

TRAINING = [
    "Where can I track my order?",
    "I want to track the parcel I ordered",
    "How do I edit the delivery address on my account",
    "What are the cancellation charges",
    "Please send me the bill for my last order",
    "Can I teach my kids to use the app",  # "teach" is one edit from "teack" too
]


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    return SpellingCorrector(word_counts(TRAINING))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("pls help me trakc my parcel", "pls help me track my parcel"),
        ("i need to chnage the adress on my acount", "i need to chnage the address on my account"),
        ("what are the cancelation charegs?", "what are the cancellation charges?"),
        ("edi the delivery address", "edit the delivery address"),
        ("send me the bil for order 4411829", "send me the bill for order 4411829"),
    ],
)
def test_typos_one_edit_from_a_training_word_are_corrected(
    corrector: SpellingCorrector, typed: str, read: str
) -> None:
    assert corrector.correct(typed) == read


def test_the_training_texts_decide_between_two_words_one_edit_away(
    corrector: SpellingCorrector,
) -> None:
    # "teack" is one edit from "teach" and from "track"; the shop's texts say "track" twice.
    assert corrector.correct("need to teack my parcel") == "need to track my parcel"
    rarer = SpellingCorrector(word_counts(["teach teach teach", "track"]))
    assert rarer.correct("teack") == "teach"


@pytest.mark.parametrize(
    "text",
    [
        "please abort the process",  # an English word, though not a training one
        "my checkings and savings",  # an inflection of a word
        "can i take pto on friday",  # three letters: an abbreviation, not a typo
        "idk what to do",
        "order 4411829 to jane@example.com",  # digits and an address are not words
        "Where can I track my order?",  # nothing to correct
    ],
)
def test_words_abbreviations_and_numbers_are_left_alone(
    corrector: SpellingCorrector, text: str
) -> None:
    assert corrector.correct(text) == text


def test_a_replacement_is_never_a_short_function_word() -> None:
    # "todo" is one deletion from "too"; a short word is not taken as what was meant.
    speller = SpellingCorrector(word_counts(["too many too often", "to the shop"]))
    assert speller.correct("wipe my todo list") == "wipe my todo list"


def test_word_counts_are_lower_case_letter_runs() -> None:
    assert word_counts(["Track my ORDER 12", "track it"]) == {
        "it": 1,
        "my": 1,
        "order": 1,
        "track": 2,
    }


def test_english_word_list_is_the_packaged_dictionary() -> None:
    words = english_words()
    assert len(words) > 80_000
    assert {"abort", "parcel", "refund"} <= words
    assert "teack" not in words


def test_typos_among_the_training_texts_are_corrected_not_learned() -> None:
    texts = ["track my order"] * 12 + ["trakc my order", "cancelling it", "canceling it"]
    speller = SpellingCorrector(word_counts(texts))
    # Seen once beside a word seen twelve times: a typo of it, corrected like any other.
    assert speller.correct("please trakc it") == "please track it"
    # Two spellings of about the same frequency are both words.
    assert speller.correct("cancelling and canceling") == "cancelling and canceling"
