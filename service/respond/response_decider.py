"""The decision of ``/v1/respond``: answer by itself, suggest to an agent, or hand over.

Order of the rules, and why:

1. A request for a human, or critical urgency, escalates before anything is looked
   up: nothing an auto-reply says helps a customer whose account was taken over.
2. Orders the message names are looked up only for a sender with an identity, and
   shown only when that sender owns them. A missing, unknown or foreign order number
   all escalate the same way, so a reply never tells whether an order exists.
   Connector failures escalate too (never an error to the helpdesk).
3. Auto-reply needs an allowed intent, confidence above the threshold, no ambiguity,
   a supported language, an allowed urgency and channel, and a verified order
   (named, or the customer's only open one; several open ones: ask which).
4. An answer the conversation already holds is not sent again; a public channel gets
   an invitation to a private message instead of order details.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TypeVar

from models.intent_classifier import IntentPrediction
from service.orders.order import Order
from service.orders.order_connector import OrderConnector, OrderConnectorError
from service.respond.decision import Action, Decision, Reason
from service.respond.order_reply_writer import OrderReplyWriter
from service.respond.respond_input import RespondInput
from service.respond.respond_policy import RespondPolicy
from service.respond.triage_signals import TriageSignals

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")
T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text).strip().lower()


class _EscalationError(Exception):
    """Internal: a rule decided to hand over (carries the reasons)."""

    def __init__(self, *reasons: Reason) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


class ResponseDecider:
    """Applies a ``RespondPolicy`` to one triaged message.

    Args:
        policy: what may be answered automatically.
        orders: where orders are looked up.
        writer: the reply templates; by default built from the policy's signature
            and time zone.
        clock: current time (tests pin it to get stable dates in replies).
    """

    def __init__(
        self,
        *,
        policy: RespondPolicy,
        orders: OrderConnector,
        writer: OrderReplyWriter | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.policy = policy
        self.orders = orders
        self.writer = writer or OrderReplyWriter(
            signature=policy.signature, timezone=policy.timezone
        )
        self.clock = clock

    def today(self) -> date:
        """Today in the policy's time zone."""
        return self.clock().astimezone(self.policy.timezone).date()

    # -- the decision --------------------------------------------------------------
    def decide(
        self, request: RespondInput, intent: IntentPrediction, signals: TriageSignals
    ) -> Decision:
        """Decide what to do with ``request``; every outcome names its reasons."""
        context = (
            (Reason.REPEAT_CONTACT,)
            if request.unanswered_customer_turns >= self.policy.repeat_contact_turns
            else ()
        )
        try:
            return self._decide(request, intent, signals, context)
        except _EscalationError as esc:
            return Decision(action=Action.ESCALATE, reasons=(*esc.reasons, *context))

    def _decide(
        self,
        request: RespondInput,
        intent: IntentPrediction,
        signals: TriageSignals,
        context: tuple[Reason, ...],
    ) -> Decision:
        if self.asks_for_human(request.text, intent):
            raise _EscalationError(Reason.HUMAN_REQUESTED)
        if self.policy.escalates_urgency(signals.urgency, signals.critical_score):
            raise _EscalationError(Reason.URGENCY_CRITICAL)
        named = self._named_orders(request, signals.order_ids)

        blockers = self.auto_reply_blockers(request, intent, signals)
        if blockers:
            return self._suggest(*blockers, *context, order=named[0] if len(named) == 1 else None)
        if len(named) > 1:
            return self._suggest(Reason.SEVERAL_ORDERS_MENTIONED, *context)
        if named:
            return self._answer(request, named[0], (Reason.ORDER_VERIFIED, *context))
        return self._answer_from_recent(request, context)

    # -- rules -----------------------------------------------------------------------
    def asks_for_human(self, text: str, intent: IntentPrediction) -> bool:
        """The intent or the wording asks for a person."""
        if not intent.out_of_scope and intent.label in self.policy.human_request_intents:
            return True
        return any(p.search(text) for p in self.policy.human_request_patterns)

    def auto_reply_blockers(
        self, request: RespondInput, intent: IntentPrediction, signals: TriageSignals
    ) -> list[Reason]:
        """Every reason the message may not be answered automatically (empty: it may)."""
        policy = self.policy
        blockers = []
        if intent.out_of_scope:
            blockers.append(Reason.OUT_OF_SCOPE)
        elif intent.label not in policy.auto_reply_intents:
            blockers.append(Reason.INTENT_NOT_ALLOWED)
        if intent.confidence <= policy.min_confidence:
            blockers.append(Reason.LOW_CONFIDENCE)
        if intent.ambiguous:
            blockers.append(Reason.AMBIGUOUS_INTENT)
        language_ok = signals.language_supported is not False and (
            signals.language is None or signals.language.lower() in policy.languages
        )
        if not language_ok:
            blockers.append(Reason.LANGUAGE_UNSUPPORTED)
        elif not signals.intent_trusted:
            blockers.append(Reason.INTENT_UNTRUSTED)
        if not policy.urgency_allows_auto_reply(signals.urgency):
            blockers.append(Reason.URGENCY_TOO_HIGH)
        if request.channel not in policy.auto_reply_channels:
            blockers.append(Reason.CHANNEL_NOT_ALLOWED)
        return blockers

    def _named_orders(self, request: RespondInput, order_ids: Sequence[str]) -> list[Order]:
        """The orders the message names, each verified as the sender's; else escalate."""
        if not order_ids:
            return []
        if not request.customer.is_known:
            raise _EscalationError(Reason.IDENTITY_MISSING)
        verified = []
        for order_id in order_ids:
            order = self._lookup(partial(self.orders.get_order, order_id))
            # Not found and not owned take the same path: the answer must not differ.
            if order is None or not request.customer.owns(order):
                raise _EscalationError(Reason.ORDER_NOT_VERIFIED)
            verified.append(order)
        return verified

    def _lookup(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except OrderConnectorError as exc:
            logger.warning("order lookup failed (%s): %s", exc.code, exc)
            raise _EscalationError(Reason(exc.reason)) from exc

    def _answer_from_recent(self, request: RespondInput, context: tuple[Reason, ...]) -> Decision:
        customer = request.customer
        if not customer.is_known:
            return self._suggest(Reason.ORDER_NOT_IDENTIFIED, *context)
        limit = self.policy.recent_order_limit
        listed = self._lookup(partial(self.orders.recent_orders, customer, limit=limit))
        oldest = self.clock() - timedelta(days=self.policy.recent_order_max_age_days)
        recent = [o for o in listed if customer.owns(o) and o.placed_at >= oldest]
        if not recent:
            return self._suggest(Reason.NO_RECENT_ORDERS, *context)
        open_orders = [o for o in recent if o.status.is_open]
        if len(open_orders) == 1:
            reasons = (Reason.ONLY_OPEN_ORDER, Reason.ORDER_VERIFIED, *context)
            return self._answer(request, open_orders[0], reasons)
        if len(open_orders) > 1:
            text = self.writer.which_order(
                open_orders, name=customer.first_name, today=self.today()
            )
            return self._reply(request, text, None, (Reason.SEVERAL_OPEN_ORDERS, *context))
        if len(recent) == 1:
            return self._answer(request, recent[0], (Reason.ORDER_VERIFIED, *context))
        return self._suggest(Reason.NO_OPEN_ORDER, *context)

    def _answer(self, request: RespondInput, order: Order, reasons: tuple[Reason, ...]) -> Decision:
        text = self.writer.order_status(order, name=request.customer.first_name, today=self.today())
        return self._reply(request, text, order, reasons)

    def _reply(
        self,
        request: RespondInput,
        text: str,
        order: Order | None,
        reasons: tuple[Reason, ...],
    ) -> Decision:
        if request.channel in self.policy.public_channels:
            # Everyone can read a public reply: no order details, not even the number.
            text = self.writer.private_channel_invite(name=request.customer.first_name)
            reasons = (*reasons, Reason.PUBLIC_CHANNEL)
        if self.already_answered(request, text, order):
            return Decision(
                action=Action.ESCALATE, reasons=(Reason.ALREADY_ANSWERED, *reasons), order=order
            )
        return Decision(action=Action.AUTO_REPLY, reasons=reasons, reply=text, order=order)

    @staticmethod
    def already_answered(request: RespondInput, reply: str, order: Order | None) -> bool:
        """An earlier agent turn gave this reply, or already spoke about this order.

        The customer asking again means that answer did not help; repeating it would
        not either, so a person takes over.
        """
        flat_reply = _flat(reply)
        markers = [order.id, order.tracking_number, order.tracking_url] if order else []
        for turn in request.agent_turns:
            said = _flat(turn.text)
            if said == flat_reply:
                return True
            if any(m and m.lower() in said for m in markers):
                return True
        return False

    def _suggest(self, *reasons: Reason, order: Order | None = None) -> Decision:
        return Decision(action=Action.SUGGEST, reasons=tuple(dict.fromkeys(reasons)), order=order)
