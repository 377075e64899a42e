"""The authenticator on a real database: hashed lookups, the cache, revocation, and a
database that is down (503, never "open")."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.auth.api_key_store import ApiKeyStore, KeyStoreUnavailableError
from service.auth.auth_errors import LookupNeededError
from service.auth.authenticator import Authenticator
from service.auth.principal import Principal
from service.database import Database


@pytest.fixture
def store(tmp_path: Path) -> ApiKeyStore:
    database = Database(f"sqlite:///{(tmp_path / 'keys.db').as_posix()}")
    database.migrate()
    return ApiKeyStore(database)


def test_static_keys_win_and_unknown_keys_are_none(store: ApiKeyStore) -> None:
    ops = Principal("ops", frozenset({"admin"}))
    authenticator = Authenticator([("static-key-0123456789", ops)], store=store)
    assert authenticator.authenticate("static-key-0123456789") == ops
    assert authenticator.authenticate("anything else") is None
    assert authenticator.has_keys()


def test_a_revoked_key_stops_working_once_the_cache_expires(store: ApiKeyStore) -> None:
    now = [100.0]
    authenticator = Authenticator([], store=store, cache_s=5.0, clock=lambda: now[0])
    assert not authenticator.has_keys()
    created = store.create("agent", scopes=["stats"], rate_per_minute=7)
    now[0] += 6.0  # the cached "no keys" answer expires
    assert authenticator.has_keys()
    principal = authenticator.authenticate(created.key)
    assert principal == Principal("agent", frozenset({"stats"}), 7)
    store.revoke("agent")
    assert authenticator.authenticate(created.key) == principal  # still cached
    now[0] += 6.0
    assert authenticator.authenticate(created.key) is None
    assert authenticator.has_keys()  # a revoked key keeps the API closed


def test_only_the_hash_is_stored(store: ApiKeyStore) -> None:
    created = store.create("bot", scopes=["triage"])
    with store.database.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT key_hash FROM api_keys").scalar_one()
    assert created.key not in stored and len(stored) == 64


def test_a_database_that_is_down_is_unavailable_not_open() -> None:
    down = ApiKeyStore(Database("postgresql+psycopg://postgres@127.0.0.1:9/nothing"))
    authenticator = Authenticator([], store=down)
    with pytest.raises(KeyStoreUnavailableError, match="retry"):
        authenticator.has_keys()
    with pytest.raises(KeyStoreUnavailableError):
        authenticator.authenticate("some-key-0123456789")


def test_without_lookups_only_a_fresh_answer_is_given(store: ApiKeyStore) -> None:
    now = [100.0]
    authenticator = Authenticator([], store=store, cache_s=5.0, clock=lambda: now[0])
    with pytest.raises(LookupNeededError):
        authenticator.has_keys(lookup=False)  # never asked yet
    assert not authenticator.has_keys()
    assert not authenticator.has_keys(lookup=False)  # cached
    created = store.create("agent", scopes=["stats"])
    with pytest.raises(LookupNeededError):
        authenticator.authenticate(created.key, lookup=False)
    principal = authenticator.authenticate(created.key)
    assert authenticator.authenticate(created.key, lookup=False) == principal
    now[0] += 6.0
    with pytest.raises(LookupNeededError):
        authenticator.has_keys(lookup=False)
    with pytest.raises(LookupNeededError):
        authenticator.authenticate(created.key, lookup=False)


def test_static_keys_never_need_a_lookup(store: ApiKeyStore) -> None:
    ops = Principal("ops", frozenset({"admin"}))
    authenticator = Authenticator([("static-key-0123456789", ops)], store=store)
    assert authenticator.has_keys(lookup=False)
    assert authenticator.authenticate("static-key-0123456789", lookup=False) == ops
