"""Persistence of an index snapshot as one artifact folder.

Layout (all hashed into ``manifest.json`` by ``models.artifact_manifest``)::

    documents.jsonl   one document per line, with its content hash
    rows.jsonl        the chunk at each index row, ``null`` for a deleted row
    vectors.npy       float32 embeddings, one per row: the index rebuilds from these
    dense.faiss       the HNSW graph (only when the dense index is HNSW)
    bm25/             BM25 state written by bm25s

The folder is written aside and swapped in (``write_artifact``), so a crash mid-write
leaves the previous index in place and loadable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kb_index.dense_retriever import DenseConfig, DenseRetriever
from kb_index.documents import Chunk, KbDocument
from kb_index.index_state import IndexState
from kb_index.lexical_retriever import LexicalRetriever
from models.artifact_manifest import (
    MANIFEST_NAME,
    ArtifactManifest,
    EncoderInfo,
    check_encoder,
    read_manifest,
    write_artifact,
)
from models.errors import ArtifactError
from models.protocols import Encoder

logger = logging.getLogger(__name__)

ARTIFACT_TYPE = "kb-index"
DOCUMENTS_FILE = "documents.jsonl"
ROWS_FILE = "rows.jsonl"
VECTORS_FILE = "vectors.npy"
DENSE_FILE = "dense.faiss"
BM25_DIR = "bm25"


def _jsonl(records: list[Any]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_state(
    folder: Path,
    state: IndexState,
    *,
    encoder: Encoder,
    params: dict[str, Any],
    before_swap: Callable[[Path], None] | None = None,
) -> ArtifactManifest:
    """Persist ``state`` atomically under ``folder``.

    Args:
        before_swap: called with the temporary folder once the payload is written
            (used to check what a crash before the swap leaves behind).
    """

    def writer(tmp: Path) -> None:
        documents = [
            {**doc.to_json(), "content_hash": state.doc_hashes[doc.id]}
            for doc in sorted(state.documents.values(), key=lambda d: d.id)
        ]
        (tmp / DOCUMENTS_FILE).write_text(_jsonl(documents), encoding="utf-8")
        rows = [c.to_json() if c is not None else None for c in state.rows]
        (tmp / ROWS_FILE).write_text(_jsonl(rows), encoding="utf-8")
        np.save(tmp / VECTORS_FILE, state.dense.vectors, allow_pickle=False)
        graph = state.dense.serialize_index()
        if graph is not None:
            (tmp / DENSE_FILE).write_bytes(graph)
        state.lexical.save(tmp / BM25_DIR)
        if before_swap is not None:
            before_swap(tmp)

    manifest = write_artifact(
        folder,
        name="kb-index",
        type=ARTIFACT_TYPE,
        version=state.fingerprint,
        encoder=EncoderInfo(model_id=encoder.model_id, dimension=encoder.dimension),
        writer=writer,
        params=params,
        metrics={
            "documents": len(state.documents),
            "chunks": state.chunk_count,
            "rows": len(state.rows),
            "dead_rows": state.dense.dead_rows,
            "dense_index": state.dense.kind,
        },
    )
    logger.info(
        "kb index written to %s: %s documents, %s chunks",
        folder,
        len(state.documents),
        state.chunk_count,
    )
    return manifest


def folder_holds_index(folder: Path) -> bool:
    """True when ``folder`` exists and is not empty (an index, or something to refuse)."""
    return folder.is_dir() and any(folder.iterdir())


def read_state(
    folder: Path, *, encoder: Encoder, dense_config: DenseConfig
) -> tuple[IndexState, ArtifactManifest]:
    """Load and verify an index folder: checksums, encoder and internal consistency."""
    if folder.is_dir() and not (folder / MANIFEST_NAME).is_file() and any(folder.iterdir()):
        raise ArtifactError(f"{folder} is not empty but has no {MANIFEST_NAME}; not a KB index")
    manifest = read_manifest(folder, expected_type=ARTIFACT_TYPE)
    check_encoder(manifest, encoder, source=folder)
    try:
        documents = {}
        for line in (folder / DOCUMENTS_FILE).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record.pop("content_hash", None)
            document = KbDocument.from_json(record)
            documents[document.id] = document
        rows: list[Chunk | None] = []
        for line in (folder / ROWS_FILE).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            rows.append(Chunk.from_json(record) if record is not None else None)
        vectors = np.load(folder / VECTORS_FILE, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{folder}: unreadable index files ({exc})") from exc
    if vectors.dtype != np.float32 or vectors.ndim != 2:
        raise ArtifactError(f"{folder}: {VECTORS_FILE} must hold a 2-d float32 array")
    if vectors.shape != (len(rows), encoder.dimension):
        raise ArtifactError(
            f"{folder}: {VECTORS_FILE} has shape {vectors.shape}, expected "
            f"({len(rows)}, {encoder.dimension})"
        )
    missing = {c.doc_id for c in rows if c is not None} - set(documents)
    if missing:
        raise ArtifactError(f"{folder}: chunks refer to unknown documents {sorted(missing)[:5]}")
    alive = np.array([c is not None for c in rows], dtype=bool)
    graph = None
    if (folder / DENSE_FILE).is_file():
        graph = DenseRetriever.deserialize_index((folder / DENSE_FILE).read_bytes())
    dense = DenseRetriever(vectors, alive=alive, config=dense_config, index=graph)
    lexical = LexicalRetriever.load(folder / BM25_DIR)
    if lexical.rows != len(rows) or not np.array_equal(lexical.alive, alive):
        raise ArtifactError(f"{folder}: BM25 state does not match the stored rows")
    state = IndexState.build(documents=documents, rows=rows, dense=dense, lexical=lexical)
    logger.info(
        "kb index loaded from %s: %s documents, %s chunks (%s)",
        folder,
        len(documents),
        state.chunk_count,
        dense.kind,
    )
    return state, manifest


def read_documents(folder: Path) -> list[KbDocument]:
    """The documents of an index folder, checksums verified (whatever encoder built it):
    what the database imports from an index written before documents moved there."""
    if not (folder / MANIFEST_NAME).is_file():
        raise ArtifactError(f"{folder} is not empty but has no {MANIFEST_NAME}; not a KB index")
    read_manifest(folder, expected_type=ARTIFACT_TYPE)
    try:
        documents = []
        for line in (folder / DOCUMENTS_FILE).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record.pop("content_hash", None)
            documents.append(KbDocument.from_json(record))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{folder}: unreadable documents ({exc})") from exc
    return documents
