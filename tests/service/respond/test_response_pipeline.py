"""Triage → decision → reply drafts, over a real in-memory KB of the sample help centre."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kb_index.knowledge_base import KnowledgeBase
from models.entity_extractor import EntityExtractor
from models.intent_classifier import IntentPrediction
from models.triager import ConversationTurn, TriageInput, TriageResult
from service.orders.customer_identity import CustomerIdentity
from service.respond.decision import Action, Reason
from service.respond.respond_input import RespondInput
from service.respond.response_decider import ResponseDecider
from service.respond.response_pipeline import ResponsePipeline
from service.respond.triage_signals import find_order_ids
from tests.service.drafting.conftest import make_service

JANE = CustomerIdentity(email="jane@example.com", name="Jane")


class FixedIntentTriager:
    """Triage with a preset intent (the classifier is tested elsewhere) and the real entity
    extractor over subject and body; records its input."""

    def __init__(self, label: str, confidence: float = 0.9) -> None:
        self.prediction = IntentPrediction(label, confidence, None, (), False, False)
        self.extractor = EntityExtractor()
        self.seen: list[TriageInput] = []

    def triage(self, message: TriageInput) -> TriageResult:
        self.seen.append(message)
        entities = [
            *self.extractor.extract(message.subject or ""),
            *self.extractor.extract(message.text),
        ]
        return TriageResult(
            intent=self.prediction, model_version="fixed@1", entities=tuple(entities)
        )


def test_suggest_carries_grounded_drafts(
    decider: ResponseDecider, help_centre: KnowledgeBase
) -> None:
    pipeline = ResponsePipeline(
        triager=FixedIntentTriager("get_refund"), decider=decider, drafter=make_service(help_centre)
    )
    outcome = pipeline.respond(RespondInput(text="How long does a refund take?", customer=JANE))
    decision = outcome.decision
    assert decision.action is Action.SUGGEST
    assert decision.reasons == (Reason.INTENT_NOT_ALLOWED, Reason.KB_PASSAGES)
    assert outcome.drafts is not None and not outcome.drafts.needs_agent
    drafts = outcome.drafts.drafts
    assert 1 <= len(drafts) <= decider.policy.max_suggestions
    assert len({d.id for d in drafts}) == len(drafts)
    assert any("refund" in c.title.lower() for d in drafts for c in d.citations)
    assert all(d.text.strip() and d.citations for d in drafts)


def test_auto_reply_carries_no_drafts(decider: ResponseDecider, help_centre: KnowledgeBase) -> None:
    pipeline = ResponsePipeline(
        triager=FixedIntentTriager("track_order"),
        decider=decider,
        drafter=make_service(help_centre),
    )
    outcome = pipeline.respond(RespondInput(text="where is my order #4411829", customer=JANE))
    assert outcome.decision.action is Action.AUTO_REPLY
    assert outcome.drafts is None
    assert outcome.triage.model_version == "fixed@1"


def test_order_number_in_the_subject_counts(decider: ResponseDecider) -> None:
    triager = FixedIntentTriager("track_order")
    pipeline = ResponsePipeline(triager=triager, decider=decider)
    outcome = pipeline.respond(
        RespondInput(
            text="any news?",
            subject="Order #4411829",
            customer=CustomerIdentity(email="omar@example.com"),
        )
    )
    assert outcome.decision.action is Action.ESCALATE
    assert outcome.decision.reasons == (Reason.ORDER_NOT_VERIFIED,)
    assert triager.seen[0].subject == "Order #4411829"


def test_without_a_drafter_suggest_has_no_drafts(decider: ResponseDecider) -> None:
    pipeline = ResponsePipeline(triager=FixedIntentTriager("get_refund"), decider=decider)
    outcome = pipeline.respond(RespondInput(text="refund please", customer=JANE))
    assert outcome.decision.action is Action.SUGGEST
    assert outcome.drafts is None


def test_history_reaches_triage(decider: ResponseDecider) -> None:
    triager = FixedIntentTriager("track_order")
    history = (ConversationTurn("customer", "where is my order?"),)
    ResponsePipeline(triager=triager, decider=decider).respond(
        RespondInput(text="hello??", customer=JANE, history=history)
    )
    assert triager.seen[0].history == history
    assert triager.seen[0].prior_customer_messages == 1


def test_without_entities_the_fallback_finds_order_numbers(decider: ResponseDecider) -> None:
    class NoEntities(FixedIntentTriager):
        def triage(self, message: TriageInput) -> TriageResult:
            return replace(super().triage(message), entities=None)  # type: ignore[arg-type]

    pipeline = ResponsePipeline(triager=NoEntities("track_order"), decider=decider)
    outcome = pipeline.respond(RespondInput(text="where is order #4411829", customer=JANE))
    assert outcome.decision.order is not None and outcome.decision.order.id == "4411829"


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("where is my order #4411829?", ["4411829"]),
        ("Order no. AB-12345 and order number 4411830", ["AB-12345", "4411830"]),
        ("#4411829 #4411829", ["4411829"]),
        ("call me on 0151 4411829 about the €129 charge", []),
    ],
)
def test_fallback_order_number_finder(text: str, ids: list[str]) -> None:
    assert find_order_ids(text) == ids
