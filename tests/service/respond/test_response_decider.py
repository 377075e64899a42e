"""The respond decision on constructed triage results, over the demo orders in a real table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from models.intent_classifier import IntentPrediction, LabelScore
from models.triager import ConversationTurn
from service.orders.customer_identity import CustomerIdentity
from service.orders.http_order_connector import HttpOrderApiConfig, HttpOrderConnector
from service.orders.order import Order, OrderStatus
from service.orders.sql_order_connector import SqlOrderConnector
from service.respond.decision import Action, Reason
from service.respond.respond_input import RespondInput
from service.respond.respond_policy import RespondPolicy
from service.respond.response_decider import ResponseDecider
from service.respond.triage_signals import TriageSignals
from tests.fixtures.order_api_server import OrderApiServer, running_order_api
from tests.service.respond.conftest import NOW

JANE = CustomerIdentity(id="C-1001", email="jane@example.com", name="Jane Doe")
OMAR = CustomerIdentity(id="C-1002", email="omar@example.com", name="Omar Haddad")
TRACKING_URL = "https://track.parcelpoint.example/t/PP7730194412"


def intent(
    label: str = "track_order",
    confidence: float = 0.93,
    *,
    ambiguous: bool = False,
    out_of_scope: bool = False,
) -> IntentPrediction:
    return IntentPrediction(
        label=label,
        confidence=confidence,
        category="ORDER",
        alternatives=(LabelScore("delivery_period", 0.03),),
        out_of_scope=out_of_scope,
        ambiguous=ambiguous,
    )


def ask(
    text: str = "Hi, where is my order #4411829?",
    customer: CustomerIdentity = JANE,
    *,
    channel: str = "email",
    history: tuple[ConversationTurn, ...] = (),
) -> RespondInput:
    return RespondInput(text=text, customer=customer, channel=channel, history=history)


def signals(*order_ids: str, urgency: str = "normal", language: str = "en") -> TriageSignals:
    return TriageSignals(
        urgency=urgency, language=language, language_supported=language == "en", order_ids=order_ids
    )


def assert_reveals_nothing(decision: object) -> None:
    assert decision.reply is None  # type: ignore[attr-defined]
    assert decision.order is None  # type: ignore[attr-defined]


# -- auto replies ---------------------------------------------------------------------


def test_verified_order_question_gets_status_and_tracking_link(decider: ResponseDecider) -> None:
    decision = decider.decide(ask(), intent(), signals("4411829"))
    assert decision.action is Action.AUTO_REPLY
    assert decision.reasons == (Reason.ORDER_VERIFIED,)
    assert decision.order is not None and decision.order.id == "4411829"
    assert decision.reply is not None
    assert decision.reply.startswith("Hi Jane,")
    assert (
        "is on its way with ParcelPoint and should arrive on Thursday 26 November" in decision.reply
    )
    assert TRACKING_URL in decision.reply


def test_email_alone_verifies_ignoring_case_and_spaces(decider: ResponseDecider) -> None:
    customer = CustomerIdentity(email="  Jane@EXAMPLE.com ")
    decision = decider.decide(ask(customer=customer), intent(), signals("4411829"))
    assert decision.action is Action.AUTO_REPLY
    assert decision.reply is not None and decision.reply.startswith("Hello,")


def test_delivery_period_is_answered_too(decider: ResponseDecider) -> None:
    decision = decider.decide(
        ask("when will order 4411829 arrive?"), intent("delivery_period"), signals("4411829")
    )
    assert decision.action is Action.AUTO_REPLY


def test_no_order_number_answers_about_the_only_open_order(decider: ResponseDecider) -> None:
    decision = decider.decide(ask("where is my parcel??"), intent(), signals())
    assert decision.action is Action.AUTO_REPLY
    assert decision.reasons == (Reason.ONLY_OPEN_ORDER, Reason.ORDER_VERIFIED)
    assert decision.order is not None and decision.order.id == "4411829"


def test_several_open_orders_ask_which_one(decider: ResponseDecider) -> None:
    decision = decider.decide(ask("where is my order?", OMAR), intent(), signals())
    assert decision.action is Action.AUTO_REPLY
    assert decision.reasons == (Reason.SEVERAL_OPEN_ORDERS,)
    assert decision.order is None
    assert decision.reply is not None
    assert "order 4411901" in decision.reply and "order 4411755" in decision.reply
    assert "Which one" in decision.reply


def test_only_recent_order_delivered_is_answered(
    decider: ResponseDecider, order_store: SqlOrderConnector
) -> None:
    solo = CustomerIdentity(email="solo@example.org")
    order_store.upsert_orders(
        [
            Order(
                id="S-1",
                status=OrderStatus.DELIVERED,
                placed_at=NOW - timedelta(days=6),
                customer_email="solo@example.org",
                delivered_at=NOW - timedelta(days=2),
            ),
            Order(  # too old to be "my order"
                id="S-0",
                status=OrderStatus.DELIVERED,
                placed_at=NOW - timedelta(days=200),
                customer_email="solo@example.org",
            ),
        ]
    )
    decision = decider.decide(ask("did my order arrive?", solo), intent(), signals())
    assert decision.action is Action.AUTO_REPLY
    assert decision.order is not None and decision.order.id == "S-1"
    assert decision.reply is not None and "was delivered on Friday 20 November" in decision.reply


def test_customer_without_orders_gets_a_suggestion(decider: ResponseDecider) -> None:
    nobody = CustomerIdentity(email="new@example.org")
    decision = decider.decide(ask("where is my order", nobody), intent(), signals())
    assert decision.action is Action.SUGGEST
    assert decision.reasons == (Reason.NO_RECENT_ORDERS,)


def test_public_channel_reply_invites_to_a_private_message(decider: ResponseDecider) -> None:
    decision = decider.decide(ask(channel="social"), intent(), signals("4411829"))
    assert decision.action is Action.AUTO_REPLY
    assert Reason.PUBLIC_CHANNEL in decision.reasons
    assert decision.reply is not None
    for detail in ("4411829", "ParcelPoint", "PP7730194412", "26 November", "transit"):
        assert detail not in decision.reply
    assert "direct message" in decision.reply


# -- who may see an order -----------------------------------------------------------------


def test_someone_elses_order_number_gets_nothing_and_escalates(decider: ResponseDecider) -> None:
    decision = decider.decide(ask(customer=OMAR), intent(), signals("4411829"))
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.ORDER_NOT_VERIFIED,)
    assert_reveals_nothing(decision)


def test_unknown_order_looks_exactly_like_someone_elses(decider: ResponseDecider) -> None:
    unknown = decider.decide(ask("where is order 9999999?"), intent(), signals("9999999"))
    foreign = decider.decide(ask(customer=OMAR), intent(), signals("4411829"))
    assert (unknown.action, unknown.reasons, unknown.reply, unknown.order) == (
        foreign.action,
        foreign.reasons,
        foreign.reply,
        foreign.order,
    )


@pytest.mark.parametrize(
    "customer",
    [
        CustomerIdentity(),
        CustomerIdentity(id="  ", email=""),
        CustomerIdentity(name="Jane Doe"),  # a name proves nothing
    ],
)
def test_no_identity_never_looks_the_order_up(
    decider: ResponseDecider, customer: CustomerIdentity
) -> None:
    decision = decider.decide(ask(customer=customer), intent(), signals("4411829"))
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.IDENTITY_MISSING,)
    assert_reveals_nothing(decision)


def test_mismatched_id_and_email_is_not_verified(decider: ResponseDecider) -> None:
    mixed = CustomerIdentity(id="C-1001", email="omar@example.com")
    decision = decider.decide(ask(customer=mixed), intent(), signals("4411829"))
    assert decision.action is Action.ESCALATE
    assert_reveals_nothing(decision)


def test_one_foreign_number_among_own_ones_still_escalates(decider: ResponseDecider) -> None:
    decision = decider.decide(ask(), intent(), signals("4411829", "4411901"))
    assert decision.action is Action.ESCALATE
    assert_reveals_nothing(decision)


def test_foreign_order_escalates_whatever_the_intent(decider: ResponseDecider) -> None:
    decision = decider.decide(
        ask("cancel order 4411829", OMAR), intent("cancel_order"), signals("4411829")
    )
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.ORDER_NOT_VERIFIED,)


def test_no_identity_and_no_order_number_suggests(decider: ResponseDecider) -> None:
    decision = decider.decide(ask("where is my order", CustomerIdentity()), intent(), signals())
    assert decision.action is Action.SUGGEST
    assert decision.reasons == (Reason.ORDER_NOT_IDENTIFIED,)


# -- hand-overs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I want to speak to a human",
        "Can I talk to a real person please, order 4411829",
        "get me a human agent now",
        "please transfer me to a manager",
    ],
)
def test_explicit_request_for_a_human_escalates(decider: ResponseDecider, text: str) -> None:
    decision = decider.decide(ask(text), intent(), signals("4411829"))
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.HUMAN_REQUESTED,)


def test_contact_human_agent_intent_escalates(decider: ResponseDecider) -> None:
    decision = decider.decide(
        ask("need help from your team"), intent("contact_human_agent"), signals()
    )
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.HUMAN_REQUESTED,)


def test_critical_urgency_escalates_even_with_a_verified_order(decider: ResponseDecider) -> None:
    text = "Someone hacked my account and changed the address on order 4411829!"
    decision = decider.decide(ask(text), intent(), signals("4411829", urgency="critical"))
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.URGENCY_CRITICAL,)
    assert_reveals_nothing(decision)


def test_operator_critical_score_threshold_decides_the_escalation(
    order_store: SqlOrderConnector, default_policy: RespondPolicy
) -> None:
    """An operator who raises escalate.critical_score keeps a low-score "critical" call
    out of the escalation queue; a high score escalates even when the level says high."""
    strict = ResponseDecider(
        policy=replace(default_policy, critical_score_threshold=0.9),
        orders=order_store,
        clock=lambda: NOW,
    )
    text = "Someone may have used my card on order 4411829"
    low_score = replace(signals("4411829", urgency="critical"), critical_score=0.5)
    decision = strict.decide(ask(text), intent(), low_score)
    assert Reason.URGENCY_CRITICAL not in decision.reasons
    high_score = replace(signals("4411829", urgency="high"), critical_score=0.95)
    decision = strict.decide(ask(text), intent(), high_score)
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.URGENCY_CRITICAL,)
    assert_reveals_nothing(decision)


# -- why not auto-reply ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "signal", "reasons"),
    [
        (intent(confidence=0.55), signals("4411829"), [Reason.LOW_CONFIDENCE]),
        (intent(ambiguous=True), signals("4411829"), [Reason.AMBIGUOUS_INTENT]),
        (intent("out_of_scope", out_of_scope=True), signals("4411829"), [Reason.OUT_OF_SCOPE]),
        (intent("get_refund"), signals("4411829"), [Reason.INTENT_NOT_ALLOWED]),
        (intent(), signals("4411829", language="de"), [Reason.LANGUAGE_UNSUPPORTED]),
        (
            intent(),
            TriageSignals(urgency="normal", intent_trusted=False, order_ids=("4411829",)),
            [Reason.INTENT_UNTRUSTED],
        ),
        (
            intent("get_refund", 0.3, ambiguous=True),
            signals("4411829"),
            [Reason.INTENT_NOT_ALLOWED, Reason.LOW_CONFIDENCE, Reason.AMBIGUOUS_INTENT],
        ),
    ],
)
def test_blocked_auto_reply_suggests_with_every_reason(
    decider: ResponseDecider,
    prediction: IntentPrediction,
    signal: TriageSignals,
    reasons: list[Reason],
) -> None:
    decision = decider.decide(ask(), prediction, signal)
    assert decision.action is Action.SUGGEST
    assert list(decision.reasons) == reasons
    assert decision.reply is None
    # The order is the sender's own: the agent gets it as context.
    assert decision.order is not None and decision.order.id == "4411829"


def test_urgency_above_the_policy_limit_suggests(
    order_store: SqlOrderConnector, default_policy: RespondPolicy
) -> None:
    from dataclasses import replace

    strict = ResponseDecider(
        policy=replace(default_policy, max_auto_reply_urgency="normal"),
        orders=order_store,
        clock=lambda: NOW,
    )
    decision = strict.decide(ask(), intent(), signals("4411829", urgency="high"))
    assert decision.action is Action.SUGGEST
    assert decision.reasons == (Reason.URGENCY_TOO_HIGH,)


def test_several_own_orders_named_at_once_suggests(decider: ResponseDecider) -> None:
    decision = decider.decide(ask(customer=OMAR), intent(), signals("4411901", "4411755"))
    assert decision.action is Action.SUGGEST
    assert decision.reasons == (Reason.SEVERAL_ORDERS_MENTIONED,)


# -- conversation history --------------------------------------------------------------------------


def test_answer_already_given_is_not_sent_again(decider: ResponseDecider) -> None:
    first = decider.decide(ask(), intent(), signals("4411829"))
    assert first.reply is not None
    history = (
        ConversationTurn("customer", "where is my order #4411829?"),
        ConversationTurn("agent", first.reply),
    )
    again = decider.decide(
        ask("still nothing, where is it??", history=history), intent(), signals()
    )
    assert again.action is Action.ESCALATE
    assert again.reasons[0] is Reason.ALREADY_ANSWERED
    assert again.reply is None


def test_agent_turn_about_another_topic_does_not_block(decider: ResponseDecider) -> None:
    history = (
        ConversationTurn("customer", "do you sell gift cards?"),
        ConversationTurn("agent", "We do! They are on the gift page."),
    )
    decision = decider.decide(ask(history=history), intent(), signals("4411829"))
    assert decision.action is Action.AUTO_REPLY


def test_repeated_unanswered_turns_are_flagged_as_repeat_contact(decider: ResponseDecider) -> None:
    history = (
        ConversationTurn("customer", "where is my order?", datetime(2026, 11, 20, tzinfo=UTC)),
        ConversationTurn("customer", "hello??", datetime(2026, 11, 21, tzinfo=UTC)),
    )
    decision = decider.decide(ask(history=history), intent(), signals("4411829"))
    assert decision.action is Action.AUTO_REPLY
    assert Reason.REPEAT_CONTACT in decision.reasons


# -- connector failures ------------------------------------------------------------------

SHOP_ORDER = {
    "order_id": "4411829",
    "customer_email": "jane@example.com",
    "status": "in_transit",
    "placed_at": "2026-11-19T09:12:00Z",
}


@pytest.fixture
def shop() -> Iterator[OrderApiServer]:
    with running_order_api({"4411829": SHOP_ORDER}) as api:
        yield api


def _http_decider(shop: OrderApiServer, policy: RespondPolicy) -> ResponseDecider:
    config = HttpOrderApiConfig(
        order_url=shop.base_url + "/orders/{order_id}",
        customer_orders_url=shop.base_url + "/orders?email={email}",
        order_root="data",
        timeout_s=0.2,
        max_retries=1,
        backoff_s=0.0,
        breaker_failures=2,
    )
    return ResponseDecider(policy=policy, orders=HttpOrderConnector(config), clock=lambda: NOW)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("slow", Reason.ORDER_LOOKUP_TIMEOUT),
        ("error", Reason.ORDER_LOOKUP_FAILED),
        ("malformed", Reason.ORDER_LOOKUP_MALFORMED),
    ],
)
def test_connector_failure_escalates(
    shop: OrderApiServer, default_policy: RespondPolicy, mode: str, reason: Reason
) -> None:
    shop.mode = mode
    decision = _http_decider(shop, default_policy).decide(ask(), intent(), signals("4411829"))
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (reason,)
    assert_reveals_nothing(decision)


def test_connector_failure_while_listing_orders_escalates(
    shop: OrderApiServer, default_policy: RespondPolicy
) -> None:
    shop.mode = "error"
    decision = _http_decider(shop, default_policy).decide(
        ask("where's my stuff"), intent(), signals()
    )
    assert decision.action is Action.ESCALATE
    assert decision.reasons == (Reason.ORDER_LOOKUP_FAILED,)


def test_open_circuit_escalates_without_calling_the_api(
    shop: OrderApiServer, default_policy: RespondPolicy
) -> None:
    decider = _http_decider(shop, default_policy)
    shop.mode = "error"
    for _ in range(2):
        decider.decide(ask(), intent(), signals("4411829"))
    calls = len(shop.requests)
    shop.mode = "ok"
    decision = decider.decide(ask(), intent(), signals("4411829"))
    assert decision.reasons == (Reason.ORDER_LOOKUP_UNAVAILABLE,)
    assert len(shop.requests) == calls


def test_http_connector_answers_when_the_shop_is_healthy(
    shop: OrderApiServer, default_policy: RespondPolicy
) -> None:
    decision = _http_decider(shop, default_policy).decide(ask(), intent(), signals("4411829"))
    assert decision.action is Action.AUTO_REPLY
    assert decision.reply is not None and "order 4411829 is on its way" in decision.reply


def test_today_follows_the_policy_time_zone(
    order_store: SqlOrderConnector, default_policy: RespondPolicy
) -> None:
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    tokyo = replace(default_policy, timezone=ZoneInfo("Asia/Tokyo"))
    decider = ResponseDecider(policy=tokyo, orders=order_store, clock=lambda: late)
    assert decider.today() == date(2026, 11, 23)
