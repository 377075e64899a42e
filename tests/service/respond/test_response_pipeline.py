"""Triage → decision → reply drafts → record, over a real in-memory KB of the sample help
centre and a real SQLite feedback store."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb_index.knowledge_base import KnowledgeBase
from models.entity_extractor import EntityExtractor
from models.intent_classifier import IntentPrediction
from models.triager import ConversationTurn, TriageInput, TriageResult
from service.database import Database
from service.feedback.feedback_records import DecisionRecord, SuggestionRecord
from service.feedback.feedback_store import FeedbackStore
from service.messages.message_recorder import NoMessageRecorder
from service.orders.customer_identity import CustomerIdentity
from service.respond.decision import Action, Reason
from service.respond.respond_input import RespondInput
from service.respond.response_decider import ResponseDecider
from service.respond.response_pipeline import ResponsePipeline
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


@pytest.fixture
def make_pipeline(decider: ResponseDecider, help_centre: KnowledgeBase, sqlite_database: Database):  # type: ignore[no-untyped-def]
    """A pipeline over the demo orders, the help centre and the SQLite store."""

    def make(triager: FixedIntentTriager) -> ResponsePipeline:
        return ResponsePipeline(
            triager=triager,
            decider=decider,
            drafter=make_service(help_centre),
            recorder=FeedbackStore(sqlite_database),
            messages=NoMessageRecorder(),
        )

    return make


def _count(database: Database, table: type[DecisionRecord] | type[SuggestionRecord]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_suggest_carries_grounded_drafts(make_pipeline, decider: ResponseDecider) -> None:  # type: ignore[no-untyped-def]
    pipeline = make_pipeline(FixedIntentTriager("get_refund"))
    outcome = pipeline.respond(RespondInput(text="How long does a refund take?", customer=JANE))
    decision = outcome.decision
    assert decision.action is Action.SUGGEST
    assert decision.reasons == (Reason.INTENT_NOT_ALLOWED, Reason.KB_PASSAGES)
    assert outcome.drafts is not None and not outcome.drafts.needs_agent
    drafts = outcome.drafts.drafts
    assert 1 <= len(drafts) <= decider.policy.max_passages
    assert len({d.id for d in drafts}) == len(drafts)
    assert any("refund" in c.title.lower() for d in drafts for c in d.citations)
    assert all(d.text.strip() and d.citations for d in drafts)


def test_auto_reply_carries_no_drafts(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    pipeline = make_pipeline(FixedIntentTriager("track_order"))
    outcome = pipeline.respond(RespondInput(text="where is my order #4411829", customer=JANE))
    assert outcome.decision.action is Action.AUTO_REPLY
    assert outcome.drafts is None
    assert outcome.triage.model_version == "fixed@1"


def test_order_number_in_the_subject_counts(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    triager = FixedIntentTriager("track_order")
    pipeline = make_pipeline(triager)
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


def test_every_decision_and_its_drafts_are_recorded(
    make_pipeline, sqlite_database: Database
) -> None:  # type: ignore[no-untyped-def]
    pipeline = make_pipeline(FixedIntentTriager("get_refund"))
    outcome = pipeline.respond(RespondInput(text="refund please", customer=JANE))
    assert outcome.decision.action is Action.SUGGEST and outcome.drafts is not None
    assert _count(sqlite_database, DecisionRecord) == 1
    assert _count(sqlite_database, SuggestionRecord) == 1
    answered = make_pipeline(FixedIntentTriager("track_order")).respond(
        RespondInput(text="where is my order #4411829", customer=JANE)
    )
    assert answered.decision.action is Action.AUTO_REPLY
    assert _count(sqlite_database, DecisionRecord) == 2
    assert _count(sqlite_database, SuggestionRecord) == 1


def test_suggest_drafts_and_records_without_a_decision(
    make_pipeline, sqlite_database: Database
) -> None:  # type: ignore[no-untyped-def]
    pipeline = make_pipeline(FixedIntentTriager("get_refund"))
    outcome = pipeline.suggest(RespondInput(text="How long does a refund take?", customer=JANE))
    assert not outcome.drafts.needs_agent and outcome.triage.model_version == "fixed@1"
    assert _count(sqlite_database, SuggestionRecord) == 1
    assert _count(sqlite_database, DecisionRecord) == 0


def test_history_reaches_triage(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    triager = FixedIntentTriager("track_order")
    history = (ConversationTurn("customer", "where is my order?"),)
    make_pipeline(triager).respond(RespondInput(text="hello??", customer=JANE, history=history))
    assert triager.seen[0].history == history
    assert triager.seen[0].prior_customer_messages == 1


def test_the_order_numbers_are_those_triage_found(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    class NoEntities(FixedIntentTriager):
        def triage(self, message: TriageInput) -> TriageResult:
            return TriageResult(intent=self.prediction, model_version="fixed@1")

    # Triage found no order number, so none is named (there is no second finder): the
    # decider falls back to the customer's recent orders.
    outcome = make_pipeline(NoEntities("track_order")).respond(
        RespondInput(text="where is order #4411829", customer=JANE)
    )
    named = outcome.decision.order is not None and (
        Reason.ONLY_OPEN_ORDER not in outcome.decision.reasons
    )
    assert not named
    found = make_pipeline(FixedIntentTriager("track_order")).respond(
        RespondInput(text="where is order #4411829", customer=JANE)
    )
    assert found.decision.order is not None and found.decision.order.id == "4411829"
    assert Reason.ONLY_OPEN_ORDER not in found.decision.reasons


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("where is my order #4411829?", ("4411829",)),
        ("Order no. AB-12345 and order number 4411830", ("AB-12345", "4411830")),
        ("#4411829 #4411829", ("4411829",)),
        ("call me on 0151 4411829 about the €129 charge", ()),
    ],
)
def test_order_numbers_come_from_the_entity_extractor(text: str, ids: tuple[str, ...]) -> None:
    entities = tuple(EntityExtractor().extract(text))
    result = TriageResult(
        intent=IntentPrediction("track_order", 0.9, None, (), False, False),
        model_version="fixed@1",
        entities=entities,
    )
    assert result.order_ids == ids
