"""The outcome of ``ResponseDecider``: an action, the reasons for it, maybe a reply."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.orders.order import Order


class Action(StrEnum):
    """What the helpdesk should do with the message."""

    AUTO_REPLY = "auto_reply"
    SUGGEST = "suggest"
    ESCALATE = "escalate"


class Reason(StrEnum):
    """Machine-readable reason codes; every decision carries at least one."""

    # escalate
    HUMAN_REQUESTED = "human_requested"
    URGENCY_CRITICAL = "urgency_critical"
    IDENTITY_MISSING = "identity_missing"
    ORDER_NOT_VERIFIED = "order_not_verified"
    ORDER_LOOKUP_FAILED = "order_lookup_failed"
    ORDER_LOOKUP_TIMEOUT = "order_lookup_timeout"
    ORDER_LOOKUP_MALFORMED = "order_lookup_malformed"
    ORDER_LOOKUP_UNAVAILABLE = "order_lookup_unavailable"
    ALREADY_ANSWERED = "already_answered"
    # why not auto_reply
    INTENT_NOT_ALLOWED = "intent_not_allowed"
    LOW_CONFIDENCE = "low_confidence"
    AMBIGUOUS_INTENT = "ambiguous_intent"
    OUT_OF_SCOPE = "out_of_scope"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    INTENT_UNTRUSTED = "intent_untrusted"
    URGENCY_TOO_HIGH = "urgency_too_high"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    ORDER_NOT_IDENTIFIED = "order_not_identified"
    NO_RECENT_ORDERS = "no_recent_orders"
    NO_OPEN_ORDER = "no_open_order"
    SEVERAL_ORDERS_MENTIONED = "several_orders_mentioned"
    # auto_reply
    ORDER_VERIFIED = "order_verified"
    ONLY_OPEN_ORDER = "only_open_order"
    SEVERAL_OPEN_ORDERS = "several_open_orders"
    PUBLIC_CHANNEL = "public_channel"
    # context
    REPEAT_CONTACT = "repeat_contact"
    EARLIER_COMMITMENT = "earlier_commitment"
    KB_PASSAGES = "kb_passages"
    NO_KB_PASSAGES = "no_kb_passages"


@dataclass(frozen=True)
class Decision:
    """The decider's answer. ``order`` is set only for an order the sender owns."""

    action: Action
    reasons: tuple[Reason, ...]
    reply: str | None = None
    order: Order | None = None

    def __post_init__(self) -> None:
        if not self.reasons:
            raise ValueError("every decision carries at least one reason code")
        if self.action is Action.AUTO_REPLY and not self.reply:
            raise ValueError("an auto_reply decision needs a reply text")
