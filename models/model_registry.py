"""Versioned model artifacts on disk, one active version per kind, switched atomically.

Layout under the registry root (``<data_dir>/registry``)::

    <kind>/versions/<version>/   a verified copy of an artifact folder (manifest + files)
    <kind>/ACTIVE                JSON pointer: active version, the ones active before it
                                 (for rollback) and the folder the settings last named
    .lock                        serialises writers (CLI commands, workers starting at once)

A version id is the manifest's version plus a digest of its file checksums
(``1.2.0-3fa2b1c9``), so registering the same artifact twice is a no-op and two different
artifacts never share an id. The pointer is replaced with ``os.replace``: a reader sees the
old pointer or the new one, never half of one, and every serving process follows it by
re-reading it (``service/model_slot.py``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from models.artifact_manifest import ArtifactManifest, read_manifest, utc_now
from models.errors import ArtifactError, ConflictError, InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

ModelKind = Literal["intent", "urgency", "gate"]
MODEL_KINDS: tuple[ModelKind, ...] = get_args(ModelKind)
#: The manifest ``type`` each kind must hold (checked at register time).
ARTIFACT_TYPES: dict[ModelKind, str] = {
    "intent": "intent-classifier",
    "urgency": "urgency-classifier",
    "gate": "answerability-gate",
}
POINTER_NAME = "ACTIVE"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: How many earlier active versions a pointer remembers for ``rollback``.
HISTORY_LIMIT = 20


def parse_kind(value: str) -> ModelKind:
    """``value`` as a model kind, or a clear error naming the kinds."""
    for kind in MODEL_KINDS:
        if value == kind:
            return kind
    raise InvalidInputError(
        f"unknown model kind {value!r}; expected one of {', '.join(MODEL_KINDS)}", field="kind"
    )


def version_id(manifest: ArtifactManifest) -> str:
    """Registry id of an artifact: its manifest version and a digest of its contents."""
    content = json.dumps(
        {"name": manifest.name, "version": manifest.version, "files": manifest.files},
        sort_keys=True,
    )
    digest = hashlib.sha256(content.encode()).hexdigest()[:8]
    base = _UNSAFE.sub("_", manifest.version).strip("._") or "v"
    return f"{base}-{digest}"


@dataclass(frozen=True)
class ActivePointer:
    """Contents of a kind's ``ACTIVE`` file."""

    version: str
    previous: tuple[str, ...] = ()
    configured: str | None = None
    changed_at: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "version": self.version,
            "previous": list(self.previous),
            "configured": self.configured,
            "changed_at": self.changed_at,
        }


@dataclass(frozen=True)
class RegistryEntry:
    """One registered version of a kind."""

    kind: ModelKind
    version: str
    path: Path
    name: str
    manifest_version: str
    created_at: str
    active: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``name@version`` as the manifest names it (what responses record)."""
        return f"{self.name}@{self.manifest_version}"

    def to_json(self) -> dict[str, Any]:
        """For ``triage models list --json``."""
        return {
            "kind": self.kind,
            "version": self.version,
            "name": self.label,
            "created_at": self.created_at,
            "active": self.active,
            "path": str(self.path),
            "metrics": self.metrics,
        }


class ModelRegistry:
    """Versioned artifact folders per kind with an atomically replaced active pointer.

    Args:
        root: the registry folder (created on first write).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths and locking -------------------------------------------------------------
    def _kind_dir(self, kind: ModelKind) -> Path:
        return self.root / kind

    def _versions_dir(self, kind: ModelKind) -> Path:
        return self._kind_dir(kind) / "versions"

    def pointer_path(self, kind: ModelKind) -> Path:
        """The file naming the active version of ``kind``."""
        return self._kind_dir(kind) / POINTER_NAME

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # An advisory lock on one file: promotions and registrations from several
        # processes (CLI, workers starting together) read-modify-write one at a time.
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- reading -------------------------------------------------------------------------
    def pointer(self, kind: ModelKind) -> ActivePointer | None:
        """The active pointer of ``kind``, or ``None`` before anything was promoted."""
        path = self.pointer_path(kind)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{path}: unreadable active pointer ({exc})") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("version"), str):
            raise ArtifactError(f"{path}: active pointer names no version")
        return ActivePointer(
            version=raw["version"],
            previous=tuple(str(v) for v in raw.get("previous", [])),
            configured=raw.get("configured"),
            changed_at=str(raw.get("changed_at", "")),
        )

    def pointer_state(self, kinds: tuple[ModelKind, ...] = MODEL_KINDS) -> tuple[str | None, ...]:
        """The active version of each kind, cheap enough to poll every second."""
        states: list[str | None] = []
        for kind in kinds:
            pointer = self.pointer(kind)
            states.append(pointer.version if pointer else None)
        return tuple(states)

    def _entry(self, kind: ModelKind, version: str, *, active: str | None) -> RegistryEntry:
        path = self._versions_dir(kind) / version
        raw = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        return RegistryEntry(
            kind=kind,
            version=version,
            path=path,
            name=str(raw.get("name", "")),
            manifest_version=str(raw.get("version", "")),
            created_at=str(raw.get("created_at", "")),
            active=version == active,
            metrics=dict(raw.get("metrics", {})),
        )

    def entries(self, kind: ModelKind) -> list[RegistryEntry]:
        """Registered versions of ``kind``, oldest artifact first."""
        folder = self._versions_dir(kind)
        if not folder.is_dir():
            return []
        pointer = self.pointer(kind)
        active = pointer.version if pointer else None
        found = [
            self._entry(kind, p.name, active=active)
            for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").is_file()
        ]
        return sorted(found, key=lambda e: (e.created_at, e.version))

    def resolve(self, kind: ModelKind, version: str) -> RegistryEntry:
        """The entry named ``version``, or the only one whose id starts with it.

        Raises:
            NotFoundError: no entry (or several) match.
        """
        entries = self.entries(kind)
        exact = [e for e in entries if e.version == version]
        matches = exact or [e for e in entries if e.version.startswith(version)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(e.version for e in entries) or "none"
        if not matches:
            raise NotFoundError(f"no {kind} version {version!r} is registered (known: {known})")
        raise NotFoundError(f"{version!r} matches several {kind} versions: {known}")

    def active(self, kind: ModelKind) -> RegistryEntry | None:
        """The active entry of ``kind``."""
        pointer = self.pointer(kind)
        if pointer is None:
            return None
        return self._entry(kind, pointer.version, active=pointer.version)

    # -- writing -------------------------------------------------------------------------
    def register(self, kind: ModelKind, folder: Path) -> RegistryEntry:
        """Copy an artifact folder into the registry after checking its manifest.

        Registering an artifact that is already there returns the existing entry.

        Raises:
            ArtifactError: the folder is not a complete artifact of ``kind``'s type.
        """
        manifest = read_manifest(Path(folder), expected_type=ARTIFACT_TYPES[kind])
        version = version_id(manifest)
        target = self._versions_dir(kind) / version
        with self._locked():
            if not target.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=target.parent))
                try:
                    shutil.copytree(folder, tmp, dirs_exist_ok=True)
                    # Checks the copy, not just the source: what we serve is the copy.
                    read_manifest(tmp, expected_type=ARTIFACT_TYPES[kind])
                    tmp.replace(target)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                logger.info("registered %s %s from %s", kind, version, folder)
            pointer = self.pointer(kind)
        return self._entry(kind, version, active=pointer.version if pointer else None)

    def _write_pointer(self, kind: ModelKind, pointer: ActivePointer) -> None:
        path = self.pointer_path(kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{POINTER_NAME}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes it 0600; other accounts serve from it too
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(pointer.to_json(), fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _activate(
        self, kind: ModelKind, version: str, *, configured: str | None = None
    ) -> ActivePointer:
        # Caller holds the lock.
        current = self.pointer(kind)
        if current is not None and current.version == version:
            pointer = ActivePointer(
                version=version,
                previous=current.previous,
                configured=configured if configured is not None else current.configured,
                changed_at=current.changed_at,
            )
        else:
            previous = (current.version, *current.previous)[:HISTORY_LIMIT] if current else ()
            pointer = ActivePointer(
                version=version,
                previous=previous,
                configured=configured
                if configured is not None
                else (current.configured if current else None),
                changed_at=utc_now(),
            )
        self._write_pointer(kind, pointer)
        return pointer

    def promote(self, kind: ModelKind, version: str) -> RegistryEntry:
        """Make ``version`` (an id or a unique prefix) the active one of ``kind``.

        Its files are verified again first: a copy damaged on disk is never activated.

        Raises:
            NotFoundError: no such version.
            ArtifactError: the registered copy fails its checksums.
        """
        with self._locked():
            entry = self.resolve(kind, version)
            read_manifest(entry.path, expected_type=ARTIFACT_TYPES[kind])
            self._activate(kind, entry.version)
        logger.info("promoted %s %s", kind, entry.version)
        return self._entry(kind, entry.version, active=entry.version)

    def rollback(self, kind: ModelKind) -> RegistryEntry:
        """Re-activate the version that was active before the current one.

        Raises:
            ConflictError: nothing was active before.
        """
        with self._locked():
            current = self.pointer(kind)
            if current is None or not current.previous:
                raise ConflictError(f"no earlier {kind} version to roll back to")
            target, *rest = current.previous
            read_manifest(self._versions_dir(kind) / target, expected_type=ARTIFACT_TYPES[kind])
            self._write_pointer(
                kind,
                ActivePointer(
                    version=target,
                    previous=tuple(rest),
                    configured=current.configured,
                    changed_at=utc_now(),
                ),
            )
        logger.info("rolled %s back from %s to %s", kind, current.version, target)
        return self._entry(kind, target, active=target)

    def adopt(self, kind: ModelKind, folder: Path) -> RegistryEntry:
        """Register the folder the settings name and activate it when it is new to them.

        The shipped default (or ``TRIAGE_*_MODEL_DIR``) is the first entry of a fresh
        registry. Later starts keep whatever was promoted since, unless the settings now
        name another folder than the last one adopted: then that one becomes active.
        """
        entry = self.register(kind, folder)
        with self._locked():
            pointer = self.pointer(kind)
            if pointer is None or pointer.configured != entry.version:
                self._activate(kind, entry.version, configured=entry.version)
                logger.info(
                    "activated %s %s named by the settings (%s)", kind, entry.version, folder
                )
            pointer = self.pointer(kind)
        return self._entry(kind, entry.version, active=pointer.version if pointer else None)
