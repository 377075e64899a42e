"""Persistence: atomic writes survive a crash, and loading refuses what it cannot trust."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kb_index.documents import KbDocument
from kb_index.knowledge_base import KnowledgeBase
from kb_index.lexical_retriever import LexicalRetriever
from models.errors import ArtifactError, EncoderMismatchError
from tests.fixtures.hashing_encoder import HashingEncoder


class SimulatedCrashError(RuntimeError):
    """Stands in for the process dying half-way through a write."""


def test_crash_before_the_swap_leaves_the_previous_index_loadable(
    kb: KnowledgeBase, index_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    before = kb.version
    kb.delete(["goodwill"])

    def crash(tmp: Path) -> None:
        assert (tmp / "vectors.npy").is_file()
        raise SimulatedCrashError

    kb.upsert([KbDocument(id="goodwill", title="Goodwill", text="Readded text.")])
    with pytest.raises(SimulatedCrashError):
        kb.save(before_swap=crash)
    reopened = KnowledgeBase.open(index_dir, encoder=hashing_encoder)
    assert reopened.version == kb.version != before
    assert not [p for p in index_dir.parent.iterdir() if p.name.startswith(".kb_index.")]


def test_crash_midway_through_an_upsert_keeps_old_index_on_disk_and_in_memory(
    kb: KnowledgeBase,
    index_dir: Path,
    hashing_encoder: HashingEncoder,
    documents: list[KbDocument],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = kb.version
    files_before = json.loads((index_dir / "manifest.json").read_text())["files"]

    def failing_save(self: LexicalRetriever, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "rows.json").write_text("{half", encoding="utf-8")
        raise SimulatedCrashError("disk went away")

    monkeypatch.setattr(LexicalRetriever, "save", failing_save)
    changed = replace(documents[0], text="Returns are now accepted for 60 days.")
    with pytest.raises(SimulatedCrashError):
        kb.upsert([changed, KbDocument(id="new", title="New", text="Brand new article.")])

    assert kb.version == before
    assert kb.get("returns").text == documents[0].text
    monkeypatch.undo()
    reopened = KnowledgeBase.open(index_dir, encoder=hashing_encoder)
    assert reopened.version == before
    assert json.loads((index_dir / "manifest.json").read_text())["files"] == files_before
    assert reopened.retrieve("return items within 30 days", k=1)[0].doc_id == "returns"


def test_loading_refuses_an_index_built_with_another_encoder(
    kb: KnowledgeBase, index_dir: Path
) -> None:
    with pytest.raises(EncoderMismatchError, match="encoder"):
        KnowledgeBase.open(index_dir, encoder=HashingEncoder(model_id="test/other-encoder"))
    with pytest.raises(EncoderMismatchError, match=r"128-d|64-d"):
        KnowledgeBase.open(index_dir, encoder=HashingEncoder(dimension=128))


def test_loading_refuses_a_tampered_file(
    kb: KnowledgeBase, index_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    rows = index_dir / "rows.jsonl"
    rows.write_text(
        rows.read_text(encoding="utf-8").replace("30 days", "90 days"), encoding="utf-8"
    )
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        KnowledgeBase.open(index_dir, encoder=hashing_encoder)


def test_a_non_empty_folder_without_manifest_is_not_taken_for_an_empty_index(
    tmp_path: Path, hashing_encoder: HashingEncoder
) -> None:
    folder = tmp_path / "not-an-index"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"manifest\.json"):
        KnowledgeBase.open(folder, encoder=hashing_encoder)


def test_manifest_records_encoder_counts_and_checksums(kb: KnowledgeBase, index_dir: Path) -> None:
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["type"] == "kb-index"
    assert manifest["encoder"] == {"model_id": "test/hashing-encoder", "dimension": 64}
    assert manifest["metrics"]["documents"] == 4
    assert manifest["metrics"]["chunks"] == kb.state.chunk_count
    assert {"documents.jsonl", "rows.jsonl", "vectors.npy", "bm25/rows.json"} <= set(
        manifest["files"]
    )
    assert all(len(sha) == 64 for sha in manifest["files"].values())
