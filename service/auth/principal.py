"""The caller a request was authenticated as."""

from __future__ import annotations

from dataclasses import dataclass

from service.auth.scopes import ADMIN_SCOPE, Scope


@dataclass(frozen=True)
class Principal:
    """An API key's holder: its name (for audit records and logs), its scopes and its own
    rate limit (``None``: the service default)."""

    name: str
    scopes: frozenset[Scope]
    rate_per_minute: int | None = None

    def allows(self, scope: Scope) -> bool:
        """The key holds ``scope``, or ``admin`` (which holds every scope)."""
        return scope in self.scopes or ADMIN_SCOPE in self.scopes
