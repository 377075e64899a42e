"""Turns a presented key into a ``Principal``: keys from the environment first, then the
hashed keys in the database (briefly cached, so a request costs no query)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from service.auth.api_key_material import hash_api_key
from service.auth.api_key_store import ApiKeyStore
from service.auth.auth_errors import LookupNeededError
from service.auth.principal import Principal

#: Most cached lookups (hits and misses); the oldest half goes when full.
MAX_CACHED = 10_000


class Authenticator:
    """Knows every valid key.

    Args:
        static_keys: ``(key, principal)`` pairs from ``TRIAGE_API_KEYS`` and the legacy
            ``TRIAGE_API_KEY``; only their hashes are kept.
        store: the database's keys (``triage keys create``), or ``None``.
        cache_s: how long a database lookup (found or not) and the key count are reused;
            a revoked key stops working within this time.
    """

    def __init__(
        self,
        static_keys: Iterable[tuple[str, Principal]],
        *,
        store: ApiKeyStore | None,
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._static = {hash_api_key(key): principal for key, principal in static_keys}
        self._store = store
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._count: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def has_keys(self, *, lookup: bool = True) -> bool:
        """Any key is configured or was ever stored (revoked ones count: revoking the last
        key closes the API rather than opening it). Without any, the API is open, on
        loopback only.

        Raises:
            LookupNeededError: ``lookup`` is false and the answer needs the database.
        """
        if self._static:
            return True
        if self._store is None:
            return False
        now = self._clock()
        cached = self._count
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1] > 0
        if not lookup:
            raise LookupNeededError
        count = self._store.count()
        self._count = (now, count)
        return count > 0

    def authenticate(self, key: str, *, lookup: bool = True) -> Principal | None:
        """The holder of ``key``, or ``None`` when it is unknown or revoked.

        Raises:
            LookupNeededError: ``lookup`` is false and the answer needs the database.
        """
        digest = hash_api_key(key)
        found = self._static.get(digest)
        if found is not None or self._store is None:
            return found
        now = self._clock()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        if not lookup:
            raise LookupNeededError
        principal = self._store.find(digest)
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                for old in list(self._cache)[: MAX_CACHED // 2]:
                    del self._cache[old]
            self._cache[digest] = (now, principal)
        return principal
