"""Re-embedding the KB index when the encoder backend changes.

The index stores vectors, so only backends that give the same vectors may serve it
(``models.artifact_manifest.check_encoder``: PyTorch and ONNX fp32 share one index, int8
needs its own). It is derived data: its documents are stored in it, so an index written
by another numeric family of the same weights (``torch`` before a switch to
``onnx-int8``, say) is rebuilt from them at startup instead of stopping the service. An
index built on other weights, or a corrupt one, still stops startup.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kb_index.documents import KbDocument
from kb_index.kb_store import ARTIFACT_TYPE, DOCUMENTS_FILE
from kb_index.knowledge_base import KnowledgeBase
from models.artifact_manifest import embedding_family, read_manifest, weights_id
from models.errors import ArtifactError
from models.protocols import Encoder

logger = logging.getLogger(__name__)


def written_by_other_backend(directory: Path, encoder: Encoder) -> bool:
    """True when the index in ``directory`` is intact and was embedded by another backend
    of the encoder's weights."""
    manifest = read_manifest(directory, expected_type=ARTIFACT_TYPE)
    if manifest.encoder is None:
        return False
    built = manifest.encoder.model_id
    return weights_id(built) == weights_id(encoder.model_id) and embedding_family(
        built
    ) != embedding_family(encoder.model_id)


def rebuild_index(directory: Path, *, encoder: Encoder) -> KnowledgeBase:
    """Re-embed every stored document with ``encoder`` and replace the index atomically
    (the old folder stays until the new one is written)."""
    try:
        lines = (directory / DOCUMENTS_FILE).read_text(encoding="utf-8").splitlines()
        documents = []
        for line in lines:
            record = json.loads(line)
            record.pop("content_hash", None)
            documents.append(KbDocument.from_json(record))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{directory}: unreadable documents ({exc})") from exc
    kb = KnowledgeBase(encoder=encoder, directory=directory)
    if documents:
        kb.upsert(documents)
    logger.warning(
        "KB index %s was embedded by another encoder backend; re-embedded %s documents with %s",
        directory,
        len(documents),
        encoder.model_id,
    )
    return kb
