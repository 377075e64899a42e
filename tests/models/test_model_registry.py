"""The model registry on real artifact folders: register, promote, rollback, adopt."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from models.errors import ArtifactError, ConflictError, InvalidInputError, NotFoundError
from models.model_registry import ModelRegistry, parse_kind
from tests.fixtures.artifact_copies import artifact_variant

SHIPPED_URGENCY = Path(__file__).resolve().parents[2] / "models" / "artifacts" / "urgency-en"


@pytest.fixture
def urgency_v2(tmp_path: Path) -> Path:
    """The shipped urgency model under another manifest version."""
    return artifact_variant(SHIPPED_URGENCY, tmp_path / "urgency-v2", version="99")


def test_register_copies_and_verifies_the_artifact(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    entry = registry.register("urgency", SHIPPED_URGENCY)
    assert entry.path.parent == tmp_path / "registry" / "urgency" / "versions"
    assert (entry.path / "manifest.json").is_file()
    assert entry.label.startswith("urgency-en@")
    assert not entry.active
    again = registry.register("urgency", SHIPPED_URGENCY)
    assert again.version == entry.version
    assert [e.version for e in registry.entries("urgency")] == [entry.version]


def test_register_refuses_a_corrupt_folder(tmp_path: Path) -> None:
    broken = artifact_variant(SHIPPED_URGENCY, tmp_path / "broken", version="7")
    (broken / "coef.npy").write_bytes(b"not the weights")
    registry = ModelRegistry(tmp_path / "registry")
    with pytest.raises(ArtifactError, match=r"checksum mismatch for coef\.npy"):
        registry.register("urgency", broken)
    assert registry.entries("urgency") == []


def test_register_refuses_an_artifact_of_another_kind(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    with pytest.raises(ArtifactError, match="not 'intent-classifier'"):
        registry.register("intent", SHIPPED_URGENCY)


def test_unknown_kind_is_named() -> None:
    with pytest.raises(InvalidInputError, match="unknown model kind 'sentiment'"):
        parse_kind("sentiment")


def test_promote_and_rollback_move_the_pointer(tmp_path: Path, urgency_v2: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    first = registry.adopt("urgency", SHIPPED_URGENCY)
    assert first.active
    second = registry.register("urgency", urgency_v2)
    assert second.version.startswith("99-")
    promoted = registry.promote("urgency", "99")  # a unique prefix is enough
    assert promoted.version == second.version
    assert registry.active("urgency") == promoted
    pointer = json.loads(registry.pointer_path("urgency").read_text(encoding="utf-8"))
    assert pointer["version"] == second.version
    assert pointer["previous"] == [first.version]
    back = registry.rollback("urgency")
    assert back.version == first.version
    with pytest.raises(ConflictError, match="no earlier urgency version"):
        registry.rollback("urgency")


def test_promote_names_the_known_versions_when_one_is_missing(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    entry = registry.adopt("urgency", SHIPPED_URGENCY)
    with pytest.raises(NotFoundError, match=f"no urgency version 'nope'.*{entry.version}"):
        registry.promote("urgency", "nope")


def test_promote_refuses_a_registered_copy_damaged_on_disk(
    tmp_path: Path, urgency_v2: Path
) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    first = registry.adopt("urgency", SHIPPED_URGENCY)
    second = registry.register("urgency", urgency_v2)
    (second.path / "intercept.npy").write_bytes(b"\0")
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        registry.promote("urgency", second.version)
    assert registry.active("urgency") == first


def test_adopt_keeps_a_promotion_across_restarts_until_the_settings_change(
    tmp_path: Path, urgency_v2: Path
) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    shipped = registry.adopt("urgency", SHIPPED_URGENCY)
    candidate = registry.register("urgency", urgency_v2)
    registry.promote("urgency", candidate.version)
    # A restart with the same settings keeps what was promoted ...
    registry.adopt("urgency", SHIPPED_URGENCY)
    assert registry.active("urgency") is not None
    assert registry.active("urgency").version == candidate.version
    # ... settings naming another folder make that one active.
    renamed = artifact_variant(SHIPPED_URGENCY, tmp_path / "urgency-v3", version="100")
    third = registry.adopt("urgency", renamed)
    assert third.active
    assert registry.pointer("urgency").previous[:2] == (
        candidate.version,
        shipped.version,
    )


def test_concurrent_promotions_leave_a_valid_pointer_and_full_history(
    tmp_path: Path, urgency_v2: Path
) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    one = registry.adopt("urgency", SHIPPED_URGENCY).version
    two = registry.register("urgency", urgency_v2).version
    errors: list[BaseException] = []

    def flip(n: int) -> None:
        try:
            for i in range(n):
                ModelRegistry(tmp_path / "registry").promote("urgency", one if i % 2 else two)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=flip, args=(15,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pointer = registry.pointer("urgency")
    assert pointer is not None
    assert pointer.version in {one, two}
    # Every promotion that changed the version was recorded: history alternates.
    assert all(a != b for a, b in zip(pointer.previous, pointer.previous[1:], strict=False))
    assert not list((tmp_path / "registry" / "urgency").glob(".ACTIVE.*"))
