"""The record type of the message log and how one is built from a triaged message.

Text is redacted here, once, before anything is queued for storage: whatever sits in the
writer's queue or in the table is already safe to keep.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from models.triager import ConversationTurn, TriageResult
from service.drafting.draft import Draft, DraftSet
from service.privacy.redaction import redact
from service.random_ids import new_hex_id

#: Where a logged message came in.
SOURCES = ("triage", "triage_batch", "respond", "suggest")


@dataclass(frozen=True)
class MessageEntry:
    """One triaged message as the log stores it (texts already redacted).

    ``detail`` holds the full triage in the shape of the ``/v1/triage`` response, the
    decision, the drafts with their citations and quoted sentences, and the history.
    """

    id: str
    created_at: datetime
    source: str
    text: str
    intent: str | None
    confidence: float
    out_of_scope: bool
    model_version: str
    detail: Mapping[str, Any]
    channel: str | None = None
    subject: str | None = None
    urgency: str | None = None
    queue: str | None = None
    priority: str | None = None
    action: str | None = None
    needs_agent: bool | None = None
    suggestion_id: str | None = None
    conversation_id: str | None = None
    #: The message embedding as float16 bytes (half the size; plenty for clustering).
    embedding: bytes | None = field(default=None, repr=False)
    embedding_dim: int | None = None


@dataclass(frozen=True)
class Decided:
    """What ``/v1/respond`` decided for the message, in plain values."""

    action: str
    reasons: tuple[str, ...]
    reply: str | None = None


def _entities(result: TriageResult, text: str, subject: str | None) -> list[dict[str, Any]]:
    """Entities with offsets into the *redacted* texts; one the redaction removed is dropped."""
    out: list[dict[str, Any]] = []
    cursors = {"text": 0, "subject": 0}
    for entity in result.entities:
        source = entity.source if entity.source in cursors else "text"
        haystack = text if source == "text" else (subject or "")
        start = haystack.find(entity.value, cursors[source])
        if start < 0:
            start = haystack.find(entity.value)
        if start < 0:
            continue
        cursors[source] = start
        end = start + len(entity.value)
        out.append(
            {
                "type": entity.type,
                "value": entity.value,
                "start": start,
                "end": end,
                "source": source,
            }
        )
    return out


def triage_json(result: TriageResult, *, text: str, subject: str | None) -> dict[str, Any]:
    """The triage result in the shape of the ``/v1/triage`` response (``TriageResponse``)."""
    intent = result.intent
    urgency, sentiment = result.urgency, result.sentiment
    language, routing = result.language, result.routing
    return {
        "intent": {
            "label": intent.label,
            "confidence": float(intent.confidence),
            "category": intent.category,
            "alternatives": [
                {"label": a.label, "confidence": float(a.confidence)} for a in intent.alternatives
            ],
            "out_of_scope": intent.out_of_scope,
            "ambiguous": intent.ambiguous,
        },
        "intent_trusted": result.intent_trusted,
        "untrusted_reason": result.untrusted_reason,
        "urgency": (
            {
                "level": urgency.level,
                "score": float(urgency.score),
                "reasons": list(urgency.reasons),
            }
            if urgency is not None
            else None
        ),
        "sentiment": (
            {"label": sentiment.label, "score": float(sentiment.score)}
            if sentiment is not None
            else None
        ),
        "entities": _entities(result, text, subject),
        "language": (
            {"code": language.code, "supported": language.supported}
            if language is not None
            else None
        ),
        "routing": (
            {"queue": routing.queue, "priority": routing.priority} if routing is not None else None
        ),
        "focus_text": redact(result.focus_text) or None,
        "model_version": result.model_version,
    }


def draft_json(draft: Draft) -> dict[str, Any]:
    """A draft with its citations and the sentences it quotes from each cited article."""
    return {
        "id": draft.id,
        "text": redact(draft.text),
        "grounded": draft.grounded,
        "confidence": max(0.0, min(1.0, float(draft.confidence))),
        "citations": [
            {"doc_id": c.doc_id, "title": c.title, "url": c.url, "snippet": c.snippet}
            for c in draft.citations
        ],
        "quotes": [
            {"doc_id": s.doc_id, "text": s.text} for s in draft.answer_sentences if s.doc_id
        ],
    }


def _plain(value: Any) -> Any:
    """JSON form of the numpy scalars model outputs carry."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def message_entry(
    source: str,
    result: TriageResult,
    *,
    text: str,
    subject: str | None = None,
    channel: str | None = None,
    history: Sequence[ConversationTurn] = (),
    conversation_id: str | None = None,
    decided: Decided | None = None,
    drafts: DraftSet | None = None,
    now: datetime | None = None,
) -> MessageEntry:
    """The log entry of one triaged message, redacted, with its embedding as float16."""
    if source not in SOURCES:
        raise ValueError(f"unknown message source {source!r} (known: {SOURCES})")
    clean_text = redact(text)
    clean_subject = redact(subject) if subject else None
    embedding = result.embedding
    vector = (
        np.asarray(embedding, dtype=np.float32).ravel().astype(np.float16)
        if embedding is not None
        else None
    )
    routing = result.routing
    detail: dict[str, Any] = {
        "triage": triage_json(result, text=clean_text, subject=clean_subject),
        "history": [
            {"role": t.role, "text": redact(t.text), "at": t.at.isoformat() if t.at else None}
            for t in history
        ],
    }
    if decided is not None:
        detail["reasons"] = list(decided.reasons)
        detail["reply"] = redact(decided.reply) if decided.reply is not None else None
    if drafts is not None:
        detail["drafts"] = [draft_json(d) for d in drafts.drafts]
    # Plain JSON values only: the writer thread must never meet an unserialisable value.
    detail = json.loads(json.dumps(detail, default=_plain))
    return MessageEntry(
        id=new_hex_id(),
        created_at=now or datetime.now(UTC),
        source=source,
        channel=channel,
        subject=clean_subject,
        text=clean_text,
        intent=result.intent_label,
        confidence=float(result.intent.confidence),
        out_of_scope=bool(result.intent.out_of_scope),
        urgency=result.urgency_level,
        queue=routing.queue if routing is not None else None,
        priority=routing.priority if routing is not None else None,
        action=decided.action if decided is not None else None,
        needs_agent=bool(drafts.needs_agent) if drafts is not None else None,
        suggestion_id=drafts.id if drafts is not None else None,
        conversation_id=conversation_id,
        model_version=result.model_version,
        detail=detail,
        embedding=vector.tobytes() if vector is not None else None,
        embedding_dim=int(vector.size) if vector is not None else None,
    )
