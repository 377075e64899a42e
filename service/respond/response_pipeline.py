"""One message end to end: triage, decide, draft, record.

``/v1/respond`` and ``/v1/suggest`` are both one call into :class:`ResponsePipeline`;
the routers only translate between the wire and these domain types. Recording is the
last step of each call: if the store refuses, the call fails (503, retry) and nothing
leaves unrecorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from models.triager import TriageInput, TriageResult
from service.drafting.draft import DraftSet
from service.drafting.draft_request import DraftRequest
from service.drafting.suggestion_service import SuggestionService
from service.feedback.feedback_store import DecisionEntry, FeedbackStore, SuggestionContext
from service.messages.message_entry import Decided, message_entry
from service.messages.message_recorder import MessageRecorder
from service.orders.order_connector import OrderConnector
from service.respond.decision import Action, Decision, Reason
from service.respond.respond_input import RespondInput
from service.respond.respond_policy import RespondPolicy, manifest_auto_reply_off
from service.respond.response_decider import ResponseDecider
from service.respond.triage_signals import signals_from
from service.summary.conversation_summary import ConversationSummarizer

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


@dataclass(frozen=True)
class SuggestOutcome:
    """Drafts for an agent and the triage they are based on (no decision)."""

    triage: TriageResult
    drafts: DraftSet


def draft_request(request: RespondInput, triage: TriageResult) -> DraftRequest:
    """What drafting is told: the message, the sender's name and what triage found."""
    intent = triage.intent
    # An untrusted intent (a language the encoder does not read) steers nothing: no
    # intent-tagged articles, no confidence floor for their passages.
    usable = triage.intent_trusted and not intent.out_of_scope
    return DraftRequest(
        text=request.text,
        subject=request.subject,
        channel=request.channel,
        customer_name=request.customer.name,
        intent=triage.intent_label if usable else None,
        intent_confidence=intent.confidence if usable else None,
        intent_ambiguous=intent.ambiguous,
        sentiment=triage.sentiment.label if triage.sentiment is not None else None,
        urgency=triage.urgency_level,
        history=request.history,
        order_ids=triage.order_ids,
        focus_text=triage.focus_text,
        focus_vector=triage.embedding,
    )


class ResponsePipeline:
    """Triage → decision → (for ``suggest``) grounded reply drafts → record.

    Args:
        triager: computes intent, urgency, entities and the rest.
        decider: applies the respond policy.
        drafter: writes drafts for ``suggest`` decisions and for ``/v1/suggest``.
        recorder: stores every decision and suggestion (for feedback and statistics).
        messages: the message log, handed every triaged message once it is recorded.
        summarizer: reads earlier agent turns for commitments an automatic answer must
            not contradict.
    """

    def __init__(
        self,
        *,
        triager: MessageTriager,
        decider: ResponseDecider,
        drafter: SuggestionService,
        recorder: FeedbackStore,
        messages: MessageRecorder,
        summarizer: ConversationSummarizer | None = None,
    ) -> None:
        self.triager = triager
        self.decider = decider
        self.drafter = drafter
        self.recorder = recorder
        self.messages = messages
        self.summarizer = summarizer or ConversationSummarizer()

    def respond(self, request: RespondInput) -> RespondOutcome:
        """Decide what to do with one message; the decision and any drafts are stored.

        Raises:
            StoreUnavailableError: the decision could not be stored (nothing was sent).
        """
        triage = self.triager.triage(request.triage_input)
        decision = self._honour_commitments(
            request, self.decider.decide(request, triage.intent, signals_from(triage))
        )
        drafts = None
        if decision.action is Action.SUGGEST:
            drafts = self.drafter.suggest(draft_request(request, triage))
            reason = Reason.NO_KB_PASSAGES if drafts.needs_agent else Reason.KB_PASSAGES
            decision = replace(decision, reasons=(*decision.reasons, reason))
        self._record(request, triage, source="respond", decision=decision, drafts=drafts)
        return RespondOutcome(triage=triage, decision=decision, drafts=drafts)

    def suggest(self, request: RespondInput) -> SuggestOutcome:
        """Drafts for an agent, without the auto-reply decision; stored before they are
        shown, so feedback on them can always be recorded.

        Raises:
            StoreUnavailableError: the drafts could not be stored.
        """
        triage = self.triager.triage(request.triage_input)
        drafts = self.drafter.suggest(draft_request(request, triage))
        self._record(request, triage, source="suggest", decision=None, drafts=drafts)
        return SuggestOutcome(triage=triage, drafts=drafts)

    def _honour_commitments(self, request: RespondInput, decision: Decision) -> Decision:
        """An automatic answer is withheld when an agent already promised or did something
        in this conversation (a refund, a replacement, a callback, ...): the canned order
        reply knows nothing of it and could contradict it, so an agent answers instead."""
        if decision.action is not Action.AUTO_REPLY or not request.agent_turns:
            return decision
        summary = self.summarizer.summarize(request.history)
        if not summary.binding_commitments:
            return decision
        return Decision(
            action=Action.SUGGEST,
            reasons=(Reason.EARLIER_COMMITMENT, *decision.reasons),
            order=decision.order,
        )

    def _record(
        self,
        request: RespondInput,
        triage: TriageResult,
        *,
        source: Literal["respond", "suggest"],
        decision: Decision | None,
        drafts: DraftSet | None,
    ) -> None:
        """Store the decision and/or the drafts in one transaction."""
        context = SuggestionContext(
            message=request.text,
            subject=request.subject,
            channel=request.channel,
            source=source,
            intent=triage.intent_label,
            urgency=triage.urgency_level,
            model_version=triage.model_version,
        )
        entry = (
            DecisionEntry(
                action=decision.action.value,
                channel=request.channel,
                reasons=tuple(r.value for r in decision.reasons),
                intent=context.intent,
                urgency=context.urgency,
            )
            if decision is not None
            else None
        )
        self.recorder.record(decision=entry, drafts=drafts, context=context)
        decided = (
            Decided(
                action=decision.action.value,
                reasons=tuple(r.value for r in decision.reasons),
                reply=decision.reply,
            )
            if decision is not None
            else None
        )
        self.messages.record(
            [
                message_entry(
                    source,
                    triage,
                    text=request.text,
                    subject=request.subject,
                    channel=request.channel,
                    history=request.history,
                    conversation_id=request.conversation_id,
                    decided=decided,
                    drafts=drafts,
                )
            ]
        )


def build_response_pipeline(
    policy: RespondPolicy,
    *,
    triager: MessageTriager,
    intent_labels: Sequence[str],
    intent_version: str,
    orders: OrderConnector,
    drafter: SuggestionService,
    recorder: FeedbackStore,
    messages: MessageRecorder,
    intent_params: Mapping[str, object] | None = None,
) -> ResponsePipeline:
    """The pipeline over a loaded policy, narrowed to what the intent model can answer:
    auto-reply only for intents it predicts and its manifest (``intent_params``, the
    manifest's ``params``) does not mark ``auto_reply: false``.

    Raises:
        PolicyError: an operator's policy names auto-reply intents, none of them labels of
            the classifier; or the manifest's ``auto_reply`` is malformed.
    """
    off = manifest_auto_reply_off(intent_params or {}, model=intent_version)
    served = policy.for_model(intent_labels, model=intent_version, auto_reply_off=off)
    decider = ResponseDecider(policy=served, orders=orders)
    return ResponsePipeline(
        triager=triager, decider=decider, drafter=drafter, recorder=recorder, messages=messages
    )
