"""Builds the app's ``AccessControl`` from the settings: keys from the environment and the
database, and the rate limiter (Redis when ``TRIAGE_REDIS_URL`` is set, else in memory)."""

from __future__ import annotations

from service.auth.access_control import AccessControl
from service.auth.api_key_store import ApiKeyStore
from service.auth.authenticator import Authenticator
from service.auth.memory_rate_limiter import MemoryRateLimiter
from service.auth.principal import Principal
from service.auth.rate_limiter import BucketRate, RateLimiter
from service.auth.redis_rate_limiter import RedisRateLimiter
from service.auth.scopes import ADMIN_SCOPE
from service.database import Database
from service.settings import LEGACY_KEY_NAME, Settings


def static_keys(settings: Settings) -> list[tuple[str, Principal]]:
    """``TRIAGE_API_KEYS`` entries, and the legacy ``TRIAGE_API_KEY`` as an admin key."""
    keys = [
        (e.key.get_secret_value(), Principal(e.name, frozenset(e.scopes), e.rate_per_minute))
        for e in settings.api_keys
    ]
    if settings.api_key is not None:
        keys.append(
            (
                settings.api_key.get_secret_value(),
                Principal(LEGACY_KEY_NAME, frozenset({ADMIN_SCOPE})),
            )
        )
    return keys


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """Redis when a URL is configured (shared by all workers), else this process's memory."""
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, prefix=settings.redis_prefix)
    return MemoryRateLimiter()


def build_access_control(settings: Settings, *, database: Database | None) -> AccessControl:
    """Keys, limits and limiter for one app (``database``: where ``triage keys`` stores keys)."""
    burst = settings.rate_limit_burst
    return AccessControl(
        Authenticator(
            static_keys(settings),
            store=ApiKeyStore(database) if database is not None else None,
            cache_s=settings.api_key_cache_s,
        ),
        limiter=build_rate_limiter(settings),
        default_rate=BucketRate(
            settings.rate_limit_per_minute, min(burst, settings.rate_limit_per_minute)
        ),
        burst=burst,
        failure_rate=BucketRate(
            settings.auth_failures_per_minute, settings.auth_failures_per_minute
        ),
    )


def has_any_key(settings: Settings) -> bool:
    """A key is configured (environment) or was ever stored (database, migrated first)."""
    if static_keys(settings):
        return True
    database = Database(settings.resolved_database_url)
    try:
        database.migrate()
        return ApiKeyStore(database).count() > 0
    finally:
        database.close()
