"""Job environments: the service's loaded objects, or built on first use in a worker."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.triager import Triager
from service.database import Database
from service.settings import Settings


@dataclass(frozen=True)
class LoadedJobEnvironment:
    """What the service process loaded already (in-process jobs share it)."""

    loaded_triager: Triager
    loaded_kb: SharedKnowledgeBase
    loaded_database: Database
    loaded_settings: Settings

    def triager(self) -> Triager:
        """The service's triager."""
        return self.loaded_triager

    def knowledge_base(self) -> SharedKnowledgeBase:
        """The service's knowledge base."""
        return self.loaded_kb

    def database(self) -> Database:
        """The service's database."""
        return self.loaded_database

    def settings(self) -> Settings:
        """The service's settings."""
        return self.loaded_settings


class LazyJobEnvironment:
    """Builds each part on first use (a backfill worker never loads the knowledge base).

    Args:
        build_triager: loads the triager.
        build_kb: opens the shared knowledge base.
    """

    def __init__(
        self,
        *,
        build_triager: Callable[[], Triager],
        build_kb: Callable[[], SharedKnowledgeBase],
        database: Database,
        settings: Settings,
    ) -> None:
        self._build_triager = build_triager
        self._build_kb = build_kb
        self._database = database
        self._settings = settings
        self._lock = threading.Lock()
        self._triager: Triager | None = None
        self._kb: SharedKnowledgeBase | None = None

    def triager(self) -> Triager:
        """The triager, loaded once."""
        with self._lock:
            if self._triager is None:
                self._triager = self._build_triager()
            return self._triager

    def knowledge_base(self) -> SharedKnowledgeBase:
        """The knowledge base, opened once (and brought to the database's version)."""
        with self._lock:
            if self._kb is None:
                self._kb = self._build_kb()
        self._kb.sync()
        return self._kb

    def database(self) -> Database:
        """The worker's database."""
        return self._database

    def settings(self) -> Settings:
        """The worker's settings."""
        return self._settings
