"""Agent commitments: kind, promised/done/declined, conditions and offers."""

from __future__ import annotations

import pytest

from models.commitment_detector import (
    CommitmentDetector,
    CommitmentKind,
    CommitmentStatus,
    latest_binding,
)
from models.triager import ConversationTurn


def agent_says(*texts: str) -> list[ConversationTurn]:
    return [ConversationTurn("customer", "My parcel never came, order 4411829.")] + [
        ConversationTurn("agent", t) for t in texts
    ]


@pytest.mark.parametrize(
    ("text", "kind", "status"),
    [
        ("I'll refund the full amount today.", CommitmentKind.REFUND, CommitmentStatus.PROMISED),
        (
            "You will receive your money back within 5 working days.",
            CommitmentKind.REFUND,
            CommitmentStatus.PROMISED,
        ),
        ("I've issued a refund of £24.99 to your card.", CommitmentKind.REFUND, "done"),
        ("The refund has been processed.", CommitmentKind.REFUND, CommitmentStatus.DONE),
        (
            "We are sending you a new kettle by express post.",
            CommitmentKind.REPLACEMENT,
            CommitmentStatus.PROMISED,
        ),
        ("A replacement was dispatched this morning.", CommitmentKind.REPLACEMENT, "done"),
        ("A colleague will call you back tomorrow at 10.", CommitmentKind.CALLBACK, "promised"),
        ("I have escalated this to our specialist team.", CommitmentKind.ESCALATION, "done"),
        ("I've added a 15% off voucher to your account.", CommitmentKind.DISCOUNT, "done"),
        ("Your order is now cancelled.", CommitmentKind.CANCELLATION, CommitmentStatus.DONE),
        ("We're looking into it with the courier.", CommitmentKind.INVESTIGATION, "promised"),
        ("We can't refund opened software.", CommitmentKind.REFUND, CommitmentStatus.DECLINED),
        (
            "Unfortunately we are unable to offer a replacement for this model.",
            CommitmentKind.REPLACEMENT,
            CommitmentStatus.DECLINED,
        ),
    ],
)
def test_kind_and_status(text: str, kind: CommitmentKind, status: str) -> None:
    found = CommitmentDetector().detect(agent_says(text))
    assert (kind, status) in {(c.kind, c.status.value) for c in found}, found
    match = next(c for c in found if c.kind == kind)
    assert match.turn == 1 and match.sentence == text


@pytest.mark.parametrize(
    "text",
    [
        "Would you like a refund or a replacement?",
        "Our refund policy allows returns within 30 days.",
        "Thanks for waiting, I understand how frustrating this is.",
        "Refunds usually take 3-5 days to appear.",
    ],
)
def test_offers_policies_and_pleasantries_are_not_commitments(text: str) -> None:
    assert CommitmentDetector().detect(agent_says(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        # Instructions about the customer's own steps name the action as a topic.
        "On the orders page you'll find a [Cancel Order] button next to each purchase.",
        "I will walk you through the cancellation process step by step.",
        "Our advisers will help you with the refund form and its requirements.",
        "Let me guide you through what you need to do to obtain a reimbursement.",
        "I can see you are expecting a refund for the damaged lamp.",
    ],
)
def test_helping_the_customer_towards_an_action_does_not_commit_to_it(text: str) -> None:
    assert [c for c in CommitmentDetector().detect(agent_says(text)) if c.binding] == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I'll cancel the order and refund you in full today.", CommitmentKind.REFUND),
        ("I've raised an urgent port-back request with the network.", CommitmentKind.FIX),
        ("We will process your refund today.", CommitmentKind.REFUND),
    ],
)
def test_an_undertaking_next_to_those_words_still_commits(text: str, kind: CommitmentKind) -> None:
    assert kind in {c.kind for c in CommitmentDetector().detect(agent_says(text)) if c.binding}


def test_customer_turns_are_never_read_as_commitments() -> None:
    turns = [ConversationTurn("customer", "I will refund myself by a chargeback then.")]
    assert CommitmentDetector().detect(turns) == []


def test_a_condition_is_marked_and_does_not_bind() -> None:
    [found] = CommitmentDetector().detect(
        agent_says("If the parcel has not arrived by Friday, we will send a replacement.")
    )
    assert found.kind is CommitmentKind.REPLACEMENT and found.conditional
    assert not found.binding
    assert latest_binding([found]) == {}


def test_a_later_refusal_cancels_an_earlier_promise_of_the_same_kind() -> None:
    found = CommitmentDetector().detect(
        agent_says(
            "I'll refund you as soon as the item is back with us.",
            "Sorry, I was wrong: we can't refund custom-made items.",
        )
    )
    assert [c.status for c in found] == [CommitmentStatus.PROMISED, CommitmentStatus.DECLINED]
    assert latest_binding(found) == {}


def test_pathological_input_is_read_in_linear_time() -> None:
    # No timing: a quadratic pattern on 20,000 characters would not return at all in CI.
    text = "we will " * 2_500 + "refund"
    assert CommitmentDetector().detect(agent_says(text))
