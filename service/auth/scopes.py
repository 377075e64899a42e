"""The scopes an API key can hold, and which routes each one opens.

| scope | routes |
|---|---|
| ``triage`` | ``POST /v1/triage``, ``POST /v1/triage/batch`` |
| ``respond`` | ``POST /v1/respond``, ``POST /v1/suggest``, ``POST /v1/summarize`` |
| ``kb:read`` | ``GET /v1/kb/documents*``, ``POST /v1/kb/search`` |
| ``kb:write`` | ``PUT`` and ``DELETE /v1/kb/documents/{id}`` |
| ``feedback`` | ``POST /v1/feedback``, ``GET /v1/feedback/export``, ``GET /v1/messages*`` |
| ``stats`` | ``GET /v1/stats``, ``GET /v1/insights/*`` |
| ``metrics`` | ``GET /metrics`` |
| ``admin`` | everything above, and ``/v1/admin/*`` |
"""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal["triage", "respond", "kb:read", "kb:write", "feedback", "stats", "metrics", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
#: The scope that includes every other.
ADMIN_SCOPE: Scope = "admin"


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """``"a,b"`` as scopes, in the given order without repeats.

    Raises:
        ValueError: naming an unknown scope, or when none is given.
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    if not names:
        raise ValueError(f"name at least one scope (known: {', '.join(SCOPES)})")
    return tuple(dict.fromkeys(names))  # type: ignore[arg-type]
