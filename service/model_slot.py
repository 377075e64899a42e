"""The swappable models of a serving process, following the registry's active pointers.

Requests read ``ModelSlot.current`` once and keep that object to the end, so a swap (one
reference assignment) never changes models under a request in flight. A background thread
polls the pointers about once a second, so every worker of every replica picks up a
``triage models promote`` without a restart; ``POST /v1/admin/reload`` forces a check now.
A candidate that fails to load (corrupt copy, other encoder, an intent model the respond
policy cannot use) is refused: the old models keep serving and the error is reported.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from models.errors import ConflictError, TriageError
from models.model_registry import ModelKind, ModelRegistry
from service.heap_freeze import freeze_loaded_state

logger = logging.getLogger(__name__)


class VersionedModels(Protocol):
    """What the slot holds: a loaded set of models that can name its versions."""

    @property
    def versions(self) -> dict[str, str]: ...


M = TypeVar("M", bound=VersionedModels)


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: ``changed`` when new models now serve."""

    changed: bool
    active: dict[str, str]


class ModelSlot(Generic[M]):
    """Holds the current models and swaps them when the registry's pointers change.

    Args:
        registry: where the active versions are named.
        kinds: the kinds this process serves from the registry.
        loader: builds the models from each kind's active folder; raises on a bad one.
        poll_interval_s: seconds between pointer checks; 0 disables polling.
    """

    def __init__(
        self,
        registry: ModelRegistry,
        *,
        kinds: tuple[ModelKind, ...],
        loader: Callable[[Mapping[ModelKind, Path]], M],
        poll_interval_s: float = 1.0,
    ) -> None:
        self.registry = registry
        self.kinds = kinds
        self._loader = loader
        self._reload_lock = threading.Lock()
        self._state = registry.pointer_state(kinds)
        self._current: M = loader(self._active_paths())
        self._failed_state: tuple[str | None, ...] | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        if poll_interval_s > 0:
            self._poller = threading.Thread(
                target=self._poll_loop, args=(poll_interval_s,), name="model-poller", daemon=True
            )
            self._poller.start()

    @property
    def current(self) -> M:
        """The models serving now; read once per request."""
        return self._current

    def active_versions(self) -> dict[str, str]:
        """Registry version serving now per kind (``/readyz``, metrics)."""
        return {k: v for k, v in zip(self.kinds, self._state, strict=True) if v is not None}

    def _active_paths(self) -> dict[ModelKind, Path]:
        paths: dict[ModelKind, Path] = {}
        for kind in self.kinds:
            entry = self.registry.active(kind)
            if entry is None:
                raise TriageError(f"the model registry has no active {kind} version")
            paths[kind] = entry.path
        return paths

    def reload(self) -> ReloadOutcome:
        """Load the active versions if they changed since the last load and swap them in.

        Raises:
            ConflictError: the new versions failed to load; the old ones keep serving.
        """
        with self._reload_lock:
            state = self.registry.pointer_state(self.kinds)
            if state == self._state:
                # Back at what serves (e.g. a refused promotion was rolled back).
                self._failed_state = None
                self.last_error = None
                return ReloadOutcome(changed=False, active=self.active_versions())
            try:
                models = self._loader(self._active_paths())
            except (TriageError, ValueError, OSError) as exc:
                self._failed_state = state
                self.last_error = f"active versions {list(state)} refused: {exc}"
                logger.error("model reload failed, old models keep serving: %s", exc)
                raise ConflictError(
                    f"the registry's active versions could not be loaded, the previous "
                    f"models keep serving: {exc}"
                ) from exc
            # One reference assignment: requests that already read ``current`` finish
            # on the old models, new requests get the new ones.
            self._current = models
            self._state = state
            self._failed_state = None
            self.last_error = None
            logger.info("models swapped: %s", models.versions)
            freeze_loaded_state(refreeze=True)
            return ReloadOutcome(changed=True, active=self.active_versions())

    def poll(self) -> None:
        """One background check; a pointer that failed to load is retried only once it
        changes again (no error loop every second)."""
        state = self.registry.pointer_state(self.kinds)
        if state == self._failed_state or (state == self._state and self.last_error is None):
            return
        with contextlib.suppress(TriageError):  # logged and kept in last_error by reload()
            self.reload()

    def _poll_loop(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.poll()
            except Exception:
                # The poller must outlive a transient failure (e.g. a pointer being
                # rewritten by hand); the next tick tries again.
                logger.exception("model registry poll failed")

    def close(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
