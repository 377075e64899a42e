"""Artifact folders: a ``manifest.json`` next to the files it vouches for.

Every artifact (intent model, urgency model, KB index) is a folder whose manifest names
its type, version, encoder, training data and a sha256 per file. Loading checks all of
it, so a truncated copy or an artifact built on another encoder fails loudly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from models.errors import ArtifactError, EncoderMismatchError
from models.protocols import Encoder

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
#: Artifact types that may be served on another numeric family of the same weights
#: (fp32 vs int8) because their figures were measured within 0.5 points there (README
#: "Performance"). Everything else needs the family it was built on: the KB index (it
#: stores vectors) and the answerability gate (its threshold on a cosine moved 2-3 points
#: of balanced accuracy across families).
CROSS_FAMILY_TYPES = frozenset({"intent-classifier", "urgency-classifier"})
#: Artifact types served across the int8 variants of one weights (the quantisation config
#: is chosen from the CPU's flags, so a shipped artifact meets variants it was not fitted
#: on): the answerability gate fitted on ``avx512_vnni`` vectors lost 0.7 points of balanced
#: accuracy on ``avx2`` vectors against a gate fitted on them (0.894 vs 0.901).
CROSS_INT8_TYPES = frozenset({"answerability-gate"})
_FP32_BACKENDS = frozenset({"", "onnx-fp32"})
MANIFEST_SCHEMA = 1
_TRACKED_LIBRARIES = (
    "numpy",
    "scikit-learn",
    "sentence-transformers",
    "torch",
    "onnxruntime",
    "faiss-cpu",
    "bm25s",
    "helpdesk-triage",
)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape an artifact, for the manifest."""
    versions = {"python": platform.python_version()}
    for name in _TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def utc_now() -> str:
    """ISO-8601 timestamp in UTC, second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class EncoderInfo:
    """Which encoder produced the vectors an artifact depends on."""

    model_id: str
    dimension: int


@dataclass(frozen=True)
class ArtifactManifest:
    """Contents of ``manifest.json``."""

    name: str
    type: str
    version: str
    created_at: str
    encoder: EncoderInfo | None
    files: dict[str, str]
    training_data: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    schema: int = MANIFEST_SCHEMA

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form, keys in a stable order."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], *, source: Path) -> ArtifactManifest:
        """Parse and validate the fields every artifact must have."""
        missing = [k for k in ("name", "type", "version", "created_at", "files") if k not in raw]
        if missing:
            raise ArtifactError(f"{source}: manifest lacks {', '.join(missing)}")
        if raw.get("schema", MANIFEST_SCHEMA) != MANIFEST_SCHEMA:
            raise ArtifactError(f"{source}: manifest schema {raw.get('schema')} is not supported")
        enc = raw.get("encoder")
        encoder = None
        if enc is not None:
            try:
                encoder = EncoderInfo(
                    model_id=str(enc["model_id"]), dimension=int(enc["dimension"])
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ArtifactError(f"{source}: malformed encoder entry {enc!r}") from exc
        files = raw["files"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ArtifactError(f"{source}: 'files' must map file names to sha256 strings")
        return cls(
            name=str(raw["name"]),
            type=str(raw["type"]),
            version=str(raw["version"]),
            created_at=str(raw["created_at"]),
            encoder=encoder,
            files=dict(files),
            training_data=dict(raw.get("training_data", {})),
            labels=list(raw.get("labels", [])),
            metrics=dict(raw.get("metrics", {})),
            params=dict(raw.get("params", {})),
            libraries=dict(raw.get("libraries", {})),
        )


def read_manifest(folder: Path, *, expected_type: str | None = None) -> ArtifactManifest:
    """Read and verify an artifact folder: manifest fields, type and every file's sha256."""
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise ArtifactError(f"artifact folder {folder} does not exist")
    if not path.is_file():
        raise ArtifactError(f"{folder} has no {MANIFEST_NAME}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(raw, dict):
        raise ArtifactError(f"{path}: manifest must be a JSON object")
    manifest = ArtifactManifest.from_json(raw, source=path)
    if expected_type is not None and manifest.type != expected_type:
        raise ArtifactError(f"{folder} holds a {manifest.type!r} artifact, not {expected_type!r}")
    for name, expected in manifest.files.items():
        file = folder / name
        if not file.is_file():
            raise ArtifactError(f"{folder}: file {name} named in the manifest is missing")
        actual = sha256_file(file)
        if actual != expected:
            raise ArtifactError(
                f"{folder}: checksum mismatch for {name} (manifest {expected[:12]}…, "
                f"file {actual[:12]}…); the artifact is corrupt or was edited"
            )
    return manifest


def weights_id(model_id: str) -> str:
    """The weights part of an encoder id: ``name@fingerprint`` without a backend suffix
    (``+onnx-fp32``, ``+onnx-int8-avx512_vnni``; see ``models/encoder_factory.py``)."""
    return model_id.partition("+")[0]


def embedding_family(model_id: str) -> str:
    """Which vectors an encoder id gives: ``fp32`` for PyTorch and ONNX fp32 (the same
    vectors, cosine 1.0000), else the quantised variant (``onnx-int8-avx512_vnni``)."""
    backend = model_id.partition("+")[2]
    return "fp32" if backend in _FP32_BACKENDS else backend


def numeric_family(model_id: str) -> str:
    """``fp32`` or ``int8``: ``embedding_family`` without the quantisation config."""
    family = embedding_family(model_id)
    return "fp32" if family == "fp32" else "int8"


def check_encoder(manifest: ArtifactManifest, encoder: Encoder, *, source: Path) -> None:
    """Refuse an artifact whose vectors came from another encoder than ``encoder``.

    The compatibility rule: other weights are always refused. Backends of the same
    weights that give the same vectors (PyTorch and ONNX fp32) are interchangeable. Across
    numeric families (fp32 vs int8) only ``CROSS_FAMILY_TYPES`` are served (the intent and
    urgency heads, measured within 0.5 points); the KB index is re-embedded by the service
    (``service/kb_rebuild.py``) and the answerability gate needs a gate fitted on the family
    (any int8 config: ``CROSS_INT8_TYPES``).
    """
    if manifest.encoder is None:
        raise EncoderMismatchError(f"{source}: manifest names no encoder")
    built, live = manifest.encoder.model_id, encoder.model_id
    if built != live:
        same_weights = weights_id(built) == weights_id(live)
        same_family = embedding_family(built) == embedding_family(live) or (
            manifest.type in CROSS_INT8_TYPES
            and numeric_family(built) == numeric_family(live) == "int8"
        )
        if not same_weights or not (same_family or manifest.type in CROSS_FAMILY_TYPES):
            raise EncoderMismatchError(
                f"{source} was built with encoder {built!r}, but the loaded "
                f"encoder is {live!r}; retrain or rebuild it with this encoder"
            )
        logger.info(
            "%s was fitted on %s and is served on %s (same weights, another backend)",
            source,
            built,
            live,
        )
    if manifest.encoder.dimension != encoder.dimension:
        raise EncoderMismatchError(
            f"{source} expects {manifest.encoder.dimension}-d vectors, the encoder gives "
            f"{encoder.dimension}-d"
        )


def write_artifact(
    folder: Path,
    *,
    name: str,
    type: str,
    version: str,
    encoder: EncoderInfo | None,
    writer: Any,
    training_data: Mapping[str, Any] | None = None,
    labels: list[str] | None = None,
    metrics: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> ArtifactManifest:
    """Write an artifact atomically: build it in a sibling temp folder, then swap it in.

    ``writer`` is called with the temp folder and writes the payload files; every file
    it leaves there is hashed into the manifest. A crash before the swap leaves any
    previous artifact at ``folder`` untouched.
    """
    folder = folder.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        writer(tmp)
        files = {
            p.relative_to(tmp).as_posix(): sha256_file(p)
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and p.name != MANIFEST_NAME
        }
        manifest = ArtifactManifest(
            name=name,
            type=type,
            version=version,
            created_at=utc_now(),
            encoder=encoder,
            files=files,
            training_data=dict(training_data or {}),
            labels=list(labels or []),
            metrics=dict(metrics or {}),
            params=dict(params or {}),
            libraries=library_versions(),
        )
        (tmp / MANIFEST_NAME).write_text(
            json.dumps(manifest.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        swap_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def swap_folder(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with renames only, so readers never see half a folder."""
    if not target.exists():
        new.replace(target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    target.replace(old)
    try:
        new.replace(target)
    except BaseException:
        old.replace(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
