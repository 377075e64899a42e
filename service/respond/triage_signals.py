"""The triage signals the respond decision uses, read from a ``TriageResult``.

The decision needs urgency, language and the order numbers a message names. They
come from the triage pipeline; this module is the one place that knows where in
``TriageResult`` they live, so the decider works on a small, stable type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from models.triager import TriageResult

_ORDER_ID = re.compile(
    r"(?:\border\b(?:\s*(?:no\.?|number|nr\.?|id|#|:))*\s*#?|#)\s*(?P<id>[A-Za-z]{0,5}[-_]?\d{4,12})\b",
    re.IGNORECASE,
)


class OrderIdExtractor(Protocol):
    """Order numbers named in a text, in the order they appear."""

    def __call__(self, text: str) -> Sequence[str]:
        """Each order number once."""
        ...


def find_order_ids(text: str) -> list[str]:
    """Anchored order numbers ("order 4411829", "#4411829"); a fallback when triage
    gives no entities. Bare digit runs are ignored: a wrong order number is worse
    than none."""
    return normalise_order_ids(m.group("id") for m in _ORDER_ID.finditer(text))


def normalise_order_ids(values: Any) -> list[str]:
    """Strip ``#`` and spaces, drop duplicates, keep the first-seen order."""
    seen: dict[str, None] = {}
    for value in values:
        cleaned = str(value).strip().lstrip("#").strip()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


@dataclass(frozen=True)
class TriageSignals:
    """Urgency level, language and named order numbers of one message.

    ``None`` means the triage pipeline did not say; the decider then neither blocks
    nor trusts on that signal's account.
    """

    urgency: str | None = None
    language: str | None = None
    language_supported: bool | None = None
    intent_trusted: bool = True
    order_ids: tuple[str, ...] = ()


def signals_from(
    result: TriageResult, *, text: str, order_ids: OrderIdExtractor = find_order_ids
) -> TriageSignals:
    """Signals of ``result``; order numbers from its entities (body and subject), or from
    ``order_ids`` when the pipeline extracted none at all (``entities is None``)."""
    if result.entities is not None:
        ids = normalise_order_ids(e.value for e in result.entities if e.type == "order_id")
    else:
        ids = list(order_ids(text))
    return TriageSignals(
        urgency=result.urgency.level if result.urgency is not None else None,
        language=result.language.code if result.language is not None else None,
        language_supported=result.language.supported if result.language is not None else None,
        intent_trusted=result.intent_trusted,
        order_ids=tuple(ids),
    )
