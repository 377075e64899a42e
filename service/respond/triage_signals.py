"""The triage signals the respond decision uses, read from a ``TriageResult``.

The decision needs urgency, language and the order numbers a message names. They
come from the triage pipeline; this module is the one place that knows where in
``TriageResult`` they live, so the decider works on a small, stable type.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.triager import TriageResult


@dataclass(frozen=True)
class TriageSignals:
    """Urgency level, language and named order numbers of one message.

    ``None`` means the triage pipeline did not say; the decider then neither blocks
    nor trusts on that signal's account.
    """

    urgency: str | None = None
    #: The urgency model's emergency score (None when it has no emergency detector).
    critical_score: float | None = None
    language: str | None = None
    language_supported: bool | None = None
    intent_trusted: bool = True
    order_ids: tuple[str, ...] = ()


def signals_from(result: TriageResult) -> TriageSignals:
    """Signals of ``result``; order numbers from its entities (body and subject)."""
    return TriageSignals(
        urgency=result.urgency_level,
        critical_score=result.urgency.critical_score if result.urgency is not None else None,
        language=result.language.code if result.language is not None else None,
        language_supported=result.language.supported if result.language is not None else None,
        intent_trusted=result.intent_trusted,
        order_ids=result.order_ids,
    )
