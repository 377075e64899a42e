"""Stored vectors are per encoder family: another backend embeds at load, reindex stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_index.kb_document_store import KbDocumentStore
from kb_index.shared_knowledge_base import SharedKnowledgeBase, vector_key
from service.database import Database
from service.kb_rebuild import open_shared_knowledge_base
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder

WEIGHTS = "test/hashing@abc"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{(tmp_path / 'triage.db').as_posix()}")
    database.migrate()
    yield database
    database.close()


def _open(database: Database, tmp_path: Path, model_id: str) -> SharedKnowledgeBase:
    return open_shared_knowledge_base(
        Settings(data_dir=tmp_path),
        database=database,
        encoder=HashingEncoder(model_id=model_id),
        follow=False,
    )


def test_another_backend_embeds_itself_and_reindex_stores_its_vectors(
    database: Database, tmp_path: Path
) -> None:
    reference = _open(database, tmp_path, WEIGHTS)
    assert len(reference) > 10
    store = KbDocumentStore(database.engine)
    assert {s.vector_key for s in store.load().values()} == {vector_key(reference.encoder)}

    int8 = _open(database, tmp_path, f"{WEIGHTS}+onnx-int8-avx2")
    assert len(int8) == len(reference)
    assert int8.search("how long does a refund take", k=1)
    # Nothing was written by loading: the stored vectors are still the reference's.
    assert {s.vector_key for s in store.load().values()} == {vector_key(reference.encoder)}

    assert int8.reindex() == len(reference)
    assert {s.vector_key for s in store.load().values()} == {vector_key(int8.encoder)}
    assert int8.reindex() == 0  # idempotent
    # The fp32 family of the same weights (PyTorch and ONNX fp32 share vectors) loads them
    # again after a reindex of its own.
    assert _open(database, tmp_path, f"{WEIGHTS}+onnx-fp32").reindex() == len(reference)
