"""A collection's fusion weights with where they came from.

The weights that suit a collection are chosen on its development queries
(``kb_index.fusion_selection``); what makes them trustworthy later is knowing who chose
them, when, on which queries and with which figures. A :class:`FusionChoice` carries
both, and travels three ways: as ``fusion.json`` beside a folder of documents (the sample
help centre ships one, so seeding never tunes at start), in an index folder's manifest
(``KnowledgeBase.open``), and as a row of the service's ``kb_fusion`` table
(``KbDocumentStore``), which every worker follows like documents.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from kb_index.fusion_selection import FusionSelection
from kb_index.hybrid_retriever import FusionConfig
from models.errors import InvalidInputError

#: The file beside a folder's documents that records the collection's weights.
FUSION_FILE = "fusion.json"

#: ``tune-fusion`` chose them; an admin set them (``PUT /v1/kb/fusion``); they came with
#: imported files; or nothing was recorded and the shipped defaults apply.
FusionSource = Literal["tune-fusion", "api", "import", "default"]
FUSION_SOURCES: tuple[FusionSource, ...] = ("tune-fusion", "api", "import", "default")


@dataclass(frozen=True)
class QuerySetInfo:
    """Which development queries weights were chosen on: file name, size and content hash
    (the hash tells two files of the same name apart)."""

    name: str
    count: int
    sha256: str

    @classmethod
    def of_file(cls, path: Path, *, count: int) -> QuerySetInfo:
        """Describe the query file at ``path`` holding ``count`` queries."""
        return cls(
            name=path.name, count=count, sha256=hashlib.sha256(path.read_bytes()).hexdigest()
        )


@dataclass(frozen=True)
class FusionChoice:
    """Fusion weights and their provenance.

    Attributes:
        fusion: the weights.
        source: how they were set.
        queries: the development queries they were chosen on (``None`` when set by hand).
        figures: metrics per retriever on those queries (``hybrid`` is the chosen fusion).
        baseline: the best single retriever there, which the fusion must not lose to.
        encoder: the encoder the figures were measured with.
        actor: who set them (an API key's name, ``system:cli``, ``system:import``).
        at: when they were recorded.
        version: the knowledge-base version the recording made (database only).
    """

    fusion: FusionConfig
    source: FusionSource = "default"
    queries: QuerySetInfo | None = None
    figures: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    baseline: str | None = None
    encoder: str | None = None
    actor: str | None = None
    at: datetime | None = None
    version: int | None = None

    @classmethod
    def from_selection(
        cls, selection: FusionSelection, *, queries: QuerySetInfo, encoder: str
    ) -> FusionChoice:
        """What ``tune-fusion`` chose, with the figures it chose on."""
        return cls(
            fusion=selection.fusion,
            source="tune-fusion",
            queries=queries,
            figures={**selection.single, "hybrid": selection.hybrid},
            baseline=selection.baseline,
            encoder=encoder,
            at=datetime.now(UTC),
        )

    def recorded(self, *, actor: str | None) -> FusionChoice:
        """This choice as written somewhere new: same weights and figures, a new author
        and time."""
        return replace(self, actor=actor, at=datetime.now(UTC), version=None)

    def imported(self) -> FusionChoice:
        """This choice as it arrives with files: marked ``import``, unless ``tune-fusion``
        chose it (that stays visible wherever the weights travel)."""
        return self if self.source == "tune-fusion" else replace(self, source="import")

    def to_json(self) -> dict[str, Any]:
        """The form of ``fusion.json`` (``version`` is the database's business)."""
        return {
            "fusion": self.fusion.to_json(),
            "source": self.source,
            "queries": (
                {
                    "name": self.queries.name,
                    "count": self.queries.count,
                    "sha256": self.queries.sha256,
                }
                if self.queries is not None
                else None
            ),
            "figures": {name: dict(metrics) for name, metrics in self.figures.items()},
            "baseline": self.baseline,
            "encoder": self.encoder,
            "actor": self.actor,
            "at": self.at.isoformat() if self.at is not None else None,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FusionChoice:
        """Read what :meth:`to_json` wrote."""
        try:
            source = raw.get("source", "import")
            if source not in FUSION_SOURCES:
                raise InvalidInputError(f"source: unknown fusion source {source!r}")
            queries = raw.get("queries")
            at = raw.get("at")
            return cls(
                fusion=FusionConfig.from_json(raw["fusion"]),
                source=source,
                queries=QuerySetInfo(
                    name=str(queries["name"]),
                    count=int(queries["count"]),
                    sha256=str(queries["sha256"]),
                )
                if queries is not None
                else None,
                figures={
                    str(name): {str(k): float(v) for k, v in metrics.items()}
                    for name, metrics in (raw.get("figures") or {}).items()
                },
                baseline=raw.get("baseline"),
                encoder=raw.get("encoder"),
                actor=raw.get("actor"),
                at=datetime.fromisoformat(at) if at else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"fusion choice: malformed record ({exc})") from exc


def choice_from_params(params: Mapping[str, Any]) -> FusionChoice | None:
    """The weights an index folder's manifest records (``params``), if they are not just
    the defaults every index is written with; ``InvalidInputError`` if malformed."""
    recorded = params.get("fusion_choice")
    if isinstance(recorded, dict):
        return FusionChoice.from_json(recorded)
    stored = params.get("fusion")
    if not isinstance(stored, dict):
        return None
    fusion = FusionConfig.from_json(stored)
    # Written before provenance was kept: weights, but nothing about how they were chosen.
    return None if fusion == FusionConfig() else FusionChoice(fusion=fusion, source="import")


def write_fusion_file(path: Path, choice: FusionChoice) -> None:
    """Record ``choice`` as ``path`` (normally ``<documents folder>/fusion.json``)."""
    path.write_text(json.dumps(choice.to_json(), indent=2) + "\n", encoding="utf-8")


def read_fusion_file(folder: Path) -> FusionChoice | None:
    """The weights recorded beside the documents in ``folder``, if it has any."""
    path = folder / FUSION_FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{path}: expected a JSON object")
    try:
        return FusionChoice.from_json(raw)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {exc}") from exc


def recorded_fusion(paths: Sequence[Path]) -> FusionChoice | None:
    """The weights recorded in the folders among ``paths``; folders that disagree are an
    error (one collection has one set of weights)."""
    found = [(p, c) for p in paths if p.is_dir() and (c := read_fusion_file(p)) is not None]
    if not found:
        return None
    first_path, first = found[0]
    for path, choice in found[1:]:
        if choice.fusion != first.fusion:
            raise InvalidInputError(
                f"{path / FUSION_FILE} and {first_path / FUSION_FILE} record different fusion "
                "weights; ingest the folders separately"
            )
    return first
