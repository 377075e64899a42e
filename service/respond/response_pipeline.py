"""One ``/v1/respond`` call end to end: triage, decide, and attach KB passages to suggest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from models.triager import TriageInput, TriageResult
from service.drafting.draft import DraftSet
from service.drafting.draft_request import draft_request_from
from service.orders.order_connector import OrderConnector
from service.respond.decision import Action, Decision, Reason
from service.respond.respond_input import RespondInput
from service.respond.respond_policy import RespondPolicy, load_policy
from service.respond.response_decider import ResponseDecider
from service.respond.triage_signals import OrderIdExtractor, find_order_ids, signals_from

if TYPE_CHECKING:
    from service.drafting.suggestion_service import SuggestionService
    from service.settings import Settings

logger = logging.getLogger(__name__)


class MessageTriager(Protocol):
    """Computes the triage signals of one message (``models.triager.Triager``)."""

    def triage(self, message: TriageInput) -> TriageResult:
        """Triage one message."""
        ...


@dataclass(frozen=True)
class RespondOutcome:
    """The triage result and the decision built on it (and, for ``suggest``, the drafts)."""

    triage: TriageResult
    decision: Decision
    drafts: DraftSet | None = None


class ResponsePipeline:
    """Triage → decision → (for ``suggest``) grounded reply drafts for the agent."""

    def __init__(
        self,
        *,
        triager: MessageTriager,
        decider: ResponseDecider,
        order_ids: OrderIdExtractor = find_order_ids,
        drafter: SuggestionService | None = None,
    ) -> None:
        self.triager = triager
        self.decider = decider
        self.order_ids = order_ids
        # When set, `suggest` decisions carry grounded reply drafts.
        self.drafter = drafter

    @staticmethod
    def triage_input(request: RespondInput) -> TriageInput:
        """The message as the triage pipeline takes it."""
        return TriageInput(
            text=request.text,
            subject=request.subject,
            channel=request.channel,
            history=request.history,
        )

    def respond(self, request: RespondInput) -> RespondOutcome:
        """Decide what to do with one message."""
        triage = self.triager.triage(self.triage_input(request))
        text = f"{request.subject}\n{request.text}" if request.subject else request.text
        signals = signals_from(triage, text=text, order_ids=self.order_ids)
        decision = self.decider.decide(request, triage.intent, signals)
        if decision.action is Action.SUGGEST and self.drafter is not None:
            drafts = self.drafter.suggest(draft_request_from(request, triage))
            reason = Reason.NO_KB_PASSAGES if drafts.needs_agent else Reason.KB_PASSAGES
            decision = replace(decision, reasons=(*decision.reasons, reason))
            return RespondOutcome(triage=triage, decision=decision, drafts=drafts)
        return RespondOutcome(triage=triage, decision=decision)


def build_response_pipeline(
    settings: Settings,
    *,
    triager: MessageTriager,
    intent_labels: Sequence[str],
    intent_version: str,
    orders: OrderConnector,
    drafter: SuggestionService | None = None,
    policy: RespondPolicy | None = None,
) -> ResponsePipeline:
    """The pipeline ``settings`` describe (``policy``: already loaded from them); a bad
    policy file stops startup here.

    Raises:
        PolicyError: the policy file is unreadable, invalid, or names intents the
            loaded classifier does not know.
    """
    policy = policy or load_policy(settings.respond_policy_path)
    policy.check_intents(intent_labels, model=intent_version)
    decider = ResponseDecider(policy=policy, orders=orders)
    return ResponsePipeline(triager=triager, decider=decider, drafter=drafter)
