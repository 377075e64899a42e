"""API keys kept in the service database (``triage keys create/list/revoke``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from models.errors import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from service.auth.api_key_material import generate_api_key, hash_api_key
from service.auth.api_key_record import ApiKeyRecord
from service.auth.principal import Principal
from service.auth.scopes import SCOPES, Scope
from service.database import Database

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 64
MAX_RATE_PER_MINUTE = 1_000_000


class KeyStoreUnavailableError(UnavailableError):
    """The key table could not be read or written."""

    code = "key_store_unavailable"


@dataclass(frozen=True)
class ApiKeyInfo:
    """A stored key as listed: never the key itself."""

    name: str
    scopes: tuple[str, ...]
    rate_per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``key`` is shown once and never stored."""

    key: str
    info: ApiKeyInfo


def _info(row: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(
        name=row.name,
        scopes=tuple(row.scopes),
        rate_per_minute=row.rate_per_minute,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def check_key_fields(name: str, scopes: Sequence[str], rate_per_minute: int | None) -> None:
    """Name, scopes and rate of a key are usable.

    Raises:
        InvalidInputError: naming the field at fault.
    """
    if not name.strip() or len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise InvalidInputError(
            f"name: {name!r} must be 1-{MAX_NAME_CHARS} printable characters", field="name"
        )
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InvalidInputError(
            f"scopes: {', '.join(unknown) or 'none given'} (known: {', '.join(SCOPES)})",
            field="scopes",
        )
    if rate_per_minute is not None and not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
        raise InvalidInputError(
            f"rate_per_minute: must be 1-{MAX_RATE_PER_MINUTE}", field="rate_per_minute"
        )


class ApiKeyStore:
    """Creates, lists, revokes and looks up hashed keys in one database (migrated)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(
        self,
        name: str,
        *,
        scopes: Sequence[Scope],
        rate_per_minute: int | None = None,
        now: datetime | None = None,
    ) -> CreatedKey:
        """Store a new key under ``name`` and return it (the only time it is seen).

        Raises:
            InvalidInputError: a bad name, scope or rate.
            ConflictError: a key (active or revoked) already has this name.
        """
        check_key_fields(name, scopes, rate_per_minute)
        key = generate_api_key()
        row = ApiKeyRecord(
            name=name,
            key_hash=hash_api_key(key),
            scopes=list(scopes),
            rate_per_minute=rate_per_minute,
            created_at=now or datetime.now(UTC),
            revoked_at=None,
        )
        taken = ConflictError(f"name: a key named {name!r} already exists")
        try:
            with self._session("create the key") as session, session.begin():
                if session.scalar(select(ApiKeyRecord.id).where(ApiKeyRecord.name == name)):
                    raise taken
                session.add(row)
        except KeyStoreUnavailableError as exc:
            # Two creations of one name at once: the unique constraint answers.
            if isinstance(exc.__cause__, IntegrityError):
                raise taken from exc
            raise
        logger.info("created API key %s with scopes %s", name, ",".join(scopes))
        return CreatedKey(key=key, info=_info(row))

    def list(self) -> list[ApiKeyInfo]:
        """Every key, active and revoked, by name."""
        with self._session("list keys") as session:
            return [_info(r) for r in session.scalars(select(ApiKeyRecord).order_by("name"))]

    def revoke(self, name: str, *, now: datetime | None = None) -> ApiKeyInfo:
        """Revoke the key named ``name`` (revoking twice is harmless).

        Raises:
            NotFoundError: no key has that name.
        """
        with self._session("revoke the key") as session, session.begin():
            row = session.scalar(select(ApiKeyRecord).where(ApiKeyRecord.name == name))
            if row is None:
                raise NotFoundError(f"name: no API key named {name!r}")
            if row.revoked_at is None:
                row.revoked_at = now or datetime.now(UTC)
                logger.info("revoked API key %s", name)
            return _info(row)

    def find(self, key_hash: str) -> Principal | None:
        """The holder of the active key with this hash, or ``None``."""
        with self._session("check the API key") as session:
            row = session.scalar(
                select(ApiKeyRecord).where(
                    ApiKeyRecord.key_hash == key_hash, ApiKeyRecord.revoked_at.is_(None)
                )
            )
            if row is None:
                return None
            scopes = frozenset(s for s in row.scopes if s in SCOPES)
            return Principal(row.name, scopes, row.rate_per_minute)  # type: ignore[arg-type]

    def count(self) -> int:
        """How many keys were ever created, revoked ones included (once a key existed the
        API stays closed: revoking the last key must not open it)."""
        with self._session("count API keys") as session:
            return int(session.scalar(select(func.count()).select_from(ApiKeyRecord)) or 0)

    @contextmanager
    def _session(self, doing: str) -> Iterator[Session]:
        """A session whose database failures become ``KeyStoreUnavailableError`` (503)."""
        try:
            with self.database.session() as session:
                yield session
        except SQLAlchemyError as exc:
            logger.error("API key store: could not %s: %s", doing, exc.__class__.__name__)
            raise KeyStoreUnavailableError(
                f"the API key store could not {doing}; retry the request"
            ) from exc
