"""Builds the drafting input from a respond request and its triage result."""

from __future__ import annotations

from models.triager import TriageResult
from service.drafting.draft import DraftRequest
from service.respond.respond_input import RespondInput


def draft_request_from(request: RespondInput, triage: TriageResult) -> DraftRequest:
    """The message, the sender's name and the tone signals triage found."""
    intent = triage.intent
    return DraftRequest(
        text=request.text,
        subject=request.subject,
        channel=request.channel,
        customer_name=request.customer.name,
        intent=None if intent.out_of_scope else intent.label,
        intent_confidence=None if intent.out_of_scope else intent.confidence,
        intent_ambiguous=intent.ambiguous,
        sentiment=triage.sentiment.label if triage.sentiment is not None else None,
        urgency=triage.urgency.level if triage.urgency is not None else None,
        history=request.history,
    )
