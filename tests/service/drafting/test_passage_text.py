"""Plain text and sentences of Markdown passages."""

from __future__ import annotations

from service.drafting.passage_text import is_standalone, plain_text, split_sentences

PASSAGE = """## Returns

Your return usually takes **2–5 business days** to reach us. We check it and process
the refund within **3 business days**, see [How to return](https://help.example/return).

| Payment method | Time until the refund shows |
| --- | --- |
| PayPal | within 24 hours |
| Credit or debit card | 3–5 business days |

- Items must be unused and in their original packaging.
- Gift cards.
- your order number,
"""


def test_plain_text_drops_markdown_but_keeps_the_words() -> None:
    text = plain_text(PASSAGE)
    assert "##" not in text and "**" not in text and "](" not in text and "|" not in text
    assert "see How to return." in text
    assert "PayPal: within 24 hours." in text


def test_every_sentence_sits_at_its_offsets_in_the_plain_text() -> None:
    text = plain_text(PASSAGE)
    sentences = split_sentences(PASSAGE)
    assert [s.text for s in sentences][:2] == [
        "Your return usually takes 2–5 business days to reach us.",
        "We check it and process the refund within 3 business days, see How to return.",
    ]
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def test_fragments_and_lead_ins_are_not_quotable() -> None:
    by_text = {s.text: s for s in split_sentences(PASSAGE)}
    assert by_text["Items must be unused and in their original packaging."].standalone
    assert by_text["Credit or debit card: 3–5 business days."].standalone
    assert not is_standalone("Gift cards.", "list_item")
    assert not is_standalone("your order number,", "list_item")
    assert not is_standalone("Include:")
    assert not is_standalone("See I was charged twice.")


def test_noun_phrase_items_are_joined_with_their_heading() -> None:
    by_text = {s.text: s for s in split_sentences(PASSAGE)}
    grouped = by_text["Returns: Gift cards; your order number."]
    assert grouped.standalone
    assert grouped.kind == "list_group"


def test_noun_phrase_items_are_joined_with_their_lead_in() -> None:
    passage = "## Paying\n\nWe accept:\n\n- Visa\n- Mastercard\n- PayPal\n\nPay at checkout.\n"
    sentences = [s.text for s in split_sentences(passage)]
    assert sentences == ["We accept: Visa; Mastercard; PayPal.", "Pay at checkout."]
    assert plain_text(passage).splitlines()[0] == sentences[0]


def test_abbreviations_do_not_end_a_sentence() -> None:
    sentences = split_sentences("Pay with a card, e.g. Visa or Mastercard. Then wait a day.")
    assert [s.text for s in sentences] == [
        "Pay with a card, e.g. Visa or Mastercard.",
        "Then wait a day.",
    ]


def test_a_conjunction_leading_into_the_next_item_is_dropped_when_items_are_joined() -> None:
    passage = "Include:\n\n- your order number,\n- what happened, and\n- what you would like.\n"
    [sentence] = [s.text for s in split_sentences(passage)]
    assert sentence == "Include: your order number; what happened; what you would like."
