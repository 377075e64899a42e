"""Real-message cleanup: HTML, quoted replies, signatures, disclaimers, long e-mails."""

from __future__ import annotations

import pytest

from models.message_cleaner import LineKind, MessageCleaner

LONG_EMAIL = """Hi there,

I hope you're doing well. I have been a customer of yours for a few years now and I
generally love the shop, the packaging and the little notes you put in the boxes.

Last month I ordered a set of garden chairs for my parents' anniversary. The delivery
took a while, but that is fine, they arrived in time for the party and everybody liked them.
My father even asked where they came from, so you may get a new customer out of it.

However, when I looked at my card statement this morning I saw that I was charged twice
for order #4411829: two identical payments of $249.99. Please refund the duplicate charge
as soon as possible.

Thanks,
Jane Miller
+1 (555) 201-3344
Sent from my iPhone

On Mon, 3 Mar 2025 at 10:00, Shop Support <help@shop.example> wrote:
> Hello Jane, thanks for reaching out.
> Order 9999999 is on its way.
"""


@pytest.fixture(scope="module")
def cleaner() -> MessageCleaner:
    return MessageCleaner()


def test_quoted_reply_and_signature_are_dropped_from_the_body(cleaner: MessageCleaner) -> None:
    cleaned = cleaner.clean(LONG_EMAIL)
    assert "charged twice" in cleaned.body.text
    assert "9999999" not in cleaned.body.text
    assert "Sent from my iPhone" not in cleaned.body.text
    assert "Jane Miller" not in cleaned.body.text
    assert cleaned.removed == {"signature": 4, "quote": 3}


def test_signature_stays_available_for_contact_details(cleaner: MessageCleaner) -> None:
    cleaned = cleaner.clean(LONG_EMAIL)
    with_signature = cleaned.view([LineKind.BODY, LineKind.SIGNATURE])
    assert "+1 (555) 201-3344" in with_signature.text
    assert "9999999" not in with_signature.text


def test_long_email_focus_keeps_the_request_from_paragraph_three(cleaner: MessageCleaner) -> None:
    cleaned = cleaner.clean(LONG_EMAIL, subject="Re: Fwd: question about my order")
    focus = cleaned.focus_text(max_words=45)
    assert focus.startswith("question about my order\n")
    assert "charged twice" in focus
    assert "refund the duplicate charge" in focus
    assert "garden chairs" not in focus  # backstory gives way to the request


def test_short_message_focus_is_subject_plus_body(cleaner: MessageCleaner) -> None:
    cleaned = cleaner.clean("where is my parcel?", subject="Late delivery")
    assert cleaned.focus_text() == "Late delivery\nwhere is my parcel?"


def test_outlook_original_message_block_is_quoted(cleaner: MessageCleaner) -> None:
    text = (
        "Still nothing, please call me back.\n\n"
        "-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: your order\n\n"
        "We are looking into it."
    )
    cleaned = cleaner.clean(text)
    assert cleaned.body.text == "Still nothing, please call me back."


def test_outlook_header_block_without_rule_is_quoted(cleaner: MessageCleaner) -> None:
    text = (
        "Any news?\n\nFrom: Shop Support <help@shop.example>\nSent: Monday, 3 March 2025\n"
        "To: Jane\nSubject: RE: order\n\nWe will check."
    )
    assert cleaner.clean(text).body.text == "Any news?"


def test_legal_disclaimer_is_dropped(cleaner: MessageCleaner) -> None:
    text = (
        "Please cancel order 5566778 before it ships.\n\n"
        "This e-mail and any attachments are confidential and intended solely for the "
        "addressee. If you have received this email in error please delete it."
    )
    cleaned = cleaner.clean(text)
    assert cleaned.body.text == "Please cancel order 5566778 before it ships."
    assert cleaned.removed == {"disclaimer": 1}


def test_html_body_becomes_text_with_offsets_into_the_html(cleaner: MessageCleaner) -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body><div>Hello,</div>"
        "<div>my order <b>#55123</b> arrived broken &amp; I need a refund.</div><br>"
        '<div class="gmail_quote">On Tue, Support wrote:<blockquote>order 111111</blockquote>'
        "</div></body></html>"
    )
    cleaned = cleaner.clean(html)
    assert cleaned.is_html
    assert cleaned.body.text == "Hello,\n\nmy order #55123 arrived broken & I need a refund."
    start = cleaned.body.text.index("#55123")
    a, b = cleaned.body.original_span(start, start + len("#55123"))
    assert html[a:b] == "#55123"
    amp = cleaned.body.text.index("&")
    a, b = cleaned.body.original_span(amp, amp + 1)
    assert html[a:b] == "&amp;"
    assert "color" not in cleaned.visible.text


def test_sign_off_followed_by_a_question_is_not_a_signature(cleaner: MessageCleaner) -> None:
    text = "The box was empty.\nThanks\nBut why was it empty?"
    assert cleaner.clean(text).body.text == text


def test_windows_line_endings_keep_offsets(cleaner: MessageCleaner) -> None:
    text = "Hi\r\norder 123456 is late\r\n"
    cleaned = cleaner.clean(text)
    start = cleaned.body.text.index("123456")
    assert cleaned.body.original_span(start, start + 6) == (
        text.index("123456"),
        text.index("123456") + 6,
    )
