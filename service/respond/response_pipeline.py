"""One ``/v1/respond`` call end to end: triage, decide, and attach KB passages to suggest."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from kb_index.hybrid_retriever import MAX_QUERY_CHARS
from models.errors import TriageError
from models.triage_pipeline import TriageInput, TriageResult
from service.drafting.draft import DraftSet
from service.drafting.draft_request import draft_request_from
from service.orders.order_connector import OrderConnector
from service.respond.decision import Action, Decision, Reason, Suggestion
from service.respond.respond_input import RespondInput
from service.respond.respond_policy import load_policy
from service.respond.response_decider import ResponseDecider
from service.respond.triage_signals import OrderIdExtractor, find_order_ids, signals_from

if TYPE_CHECKING:
    from service.drafting.suggestion_service import SuggestionService
    from service.settings import Settings

logger = logging.getLogger(__name__)


class MessageTriager(Protocol):
    """Computes the triage signals of one message (``models.triage_pipeline.Triager``)."""

    def triage(self, message: TriageInput) -> TriageResult:
        """Triage one message."""
        ...


class PassageHit(Protocol):
    """A retrieved knowledge-base passage (``kb_index.documents.DocumentHit``)."""

    @property
    def doc_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def score(self) -> float: ...
    @property
    def snippet(self) -> str: ...
    @property
    def passage(self) -> str: ...


class PassageRetriever(Protocol):
    """The part of ``kb_index.protocols.Retriever`` this pipeline uses."""

    def retrieve(self, query: str, *, k: int = 5) -> Sequence[PassageHit]:
        """Up to ``k`` passages, best first."""
        ...


@dataclass(frozen=True)
class RespondOutcome:
    """The triage result and the decision built on it (and, for ``suggest``, the drafts)."""

    triage: TriageResult
    decision: Decision
    drafts: DraftSet | None = None


class ResponsePipeline:
    """Triage → decision → (for ``suggest``) knowledge-base passages for the agent."""

    def __init__(
        self,
        *,
        triager: MessageTriager,
        decider: ResponseDecider,
        retriever: PassageRetriever | None = None,
        order_ids: OrderIdExtractor = find_order_ids,
        drafter: SuggestionService | None = None,
    ) -> None:
        self.triager = triager
        self.decider = decider
        self.retriever = retriever
        self.order_ids = order_ids
        # When set, `suggest` decisions carry grounded reply drafts instead of raw passages.
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
        if decision.action is Action.SUGGEST:
            decision = self._with_passages(decision, text)
        return RespondOutcome(triage=triage, decision=decision)

    def _with_passages(self, decision: Decision, query: str) -> Decision:
        k = self.decider.policy.max_suggestions
        if self.retriever is None or k == 0:
            return decision
        try:
            hits = self.retriever.retrieve(query[:MAX_QUERY_CHARS], k=k)
        except TriageError as exc:
            logger.warning("knowledge-base retrieval failed: %s", exc)
            hits = []
        suggestions = tuple(
            Suggestion(
                id=uuid.uuid4().hex,
                text=hit.passage,
                doc_id=hit.doc_id,
                title=hit.title,
                url=hit.url,
                snippet=hit.snippet,
                score=float(hit.score),
            )
            for hit in hits
        )
        reason = Reason.KB_PASSAGES if suggestions else Reason.NO_KB_PASSAGES
        return replace(decision, suggestions=suggestions, reasons=(*decision.reasons, reason))


def build_response_pipeline(
    settings: Settings,
    *,
    triager: MessageTriager,
    intent_labels: Sequence[str],
    intent_version: str,
    orders: OrderConnector,
    retriever: PassageRetriever | None = None,
    drafter: SuggestionService | None = None,
) -> ResponsePipeline:
    """The pipeline ``settings`` describe; a bad policy file stops startup here.

    Raises:
        PolicyError: the policy file is unreadable, invalid, or names intents the
            loaded classifier does not know.
    """
    policy = load_policy(settings.respond_policy_path)
    policy.check_intents(intent_labels, model=intent_version)
    decider = ResponseDecider(policy=policy, orders=orders)
    return ResponsePipeline(triager=triager, decider=decider, retriever=retriever, drafter=drafter)
