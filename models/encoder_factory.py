"""The one place that maps an encoder backend name to an implementation.

Backends compute the same function of the same all-MiniLM-L6-v2 weights:

- ``torch``: sentence-transformers on PyTorch, fp32 (the reference; its id has no suffix).
- ``onnx``: the exported graph on ONNX Runtime, fp32 (cosine 1.0000 to ``torch``).
- ``onnx-int8``: the same graph dynamically quantised to int8 for this CPU.

The ONNX backends import neither torch nor transformers. Their id is the source weights'
id plus the variant (``...@53aa51172d142c89+onnx-int8-avx512_vnni``), so every manifest
built on them records which embeddings it was fitted on; see
``models.artifact_manifest.check_encoder`` for what may be served on which backend.
Implementations are imported only when named.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from models.errors import ArtifactError

if TYPE_CHECKING:
    from models.protocols import Encoder

EncoderBackend = Literal["torch", "onnx", "onnx-int8"]
ENCODER_BACKENDS: tuple[str, ...] = get_args(EncoderBackend)
#: Where ``triage encoder export`` writes by default (gitignored; a build output).
DEFAULT_EXPORT_DIR = Path(__file__).resolve().parent / "exported"
EXPORT_FOLDERS: dict[str, str] = {"onnx": "onnx-fp32", "onnx-int8": "onnx-int8"}
#: Backends that encode one text per call (dynamic int8 quantisation would make a text's
#: vector depend on its batch-mates: ``models/onnx_encoder.py``), so they use several cores
#: through concurrent calls rather than shared batches (``models/micro_batching_encoder.py``).
PER_TEXT_BACKENDS: frozenset[str] = frozenset({"onnx-int8"})


def export_folder(backend: EncoderBackend, export_dir: Path | None = None) -> Path:
    """The artifact folder an ONNX backend loads from."""
    if backend not in EXPORT_FOLDERS:
        raise ValueError(f"backend {backend!r} is not an exported one")
    return (export_dir or DEFAULT_EXPORT_DIR) / EXPORT_FOLDERS[backend]


def build_encoder(
    backend: EncoderBackend,
    *,
    source: Path | None = None,
    name: str | None = None,
    export_dir: Path | None = None,
    threads: int = 1,
) -> Encoder:
    """The encoder ``backend`` names, loaded and verified.

    Args:
        backend: which implementation.
        source: the sentence-transformers folder (default: the packaged weights). The
            ONNX backends check that their export was made from these weights.
        name: encoder name recorded in ids (``torch`` only; an export records its own).
        export_dir: folder holding the exports (default ``models/exported``).
        threads: intra-op compute threads.

    Raises:
        ArtifactError: the export is missing, corrupt or made from other weights.
    """
    from models.sentence_encoder import (
        DEFAULT_ENCODER_NAME,
        SentenceTransformerEncoder,
        default_encoder_path,
        weights_fingerprint,
    )

    if backend == "torch":
        reference = SentenceTransformerEncoder(source, name=name or DEFAULT_ENCODER_NAME).load()
        import torch

        torch.set_num_threads(threads)
        return reference
    if backend not in EXPORT_FOLDERS:
        raise ValueError(f"unknown encoder backend {backend!r}; choose from {ENCODER_BACKENDS}")
    from models.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(export_folder(backend, export_dir), intra_op_threads=threads).load()
    current = weights_fingerprint(source or default_encoder_path())
    if encoder.source_fingerprint != current:
        raise ArtifactError(
            f"{encoder.folder} was exported from weights {encoder.source_fingerprint}, the "
            f"encoder folder now holds {current}; run `triage encoder export` again"
        )
    return encoder
