"""An index embedded by another backend of the same weights is rebuilt at startup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb_index.knowledge_base import KnowledgeBase
from models.errors import EncoderMismatchError
from service.resources import load_knowledge_base
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder

WEIGHTS = "test/hashing@abc"


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """A sample-help-centre index written by the reference backend."""
    settings = Settings(data_dir=tmp_path)
    kb = load_knowledge_base(settings, encoder=HashingEncoder(model_id=WEIGHTS))
    assert len(kb) > 10
    return settings.resolved_kb_index_dir


def test_index_of_another_backend_is_re_embedded_with_its_documents(index_dir: Path) -> None:
    before = json.loads((index_dir / "manifest.json").read_text())
    live = HashingEncoder(model_id=f"{WEIGHTS}+onnx-int8-avx2")
    kb = load_knowledge_base(
        Settings(data_dir=index_dir.parent, kb_seed_sample=False), encoder=live
    )
    after = json.loads((index_dir / "manifest.json").read_text())
    assert after["encoder"]["model_id"] == live.model_id
    assert after["metrics"]["documents"] == before["metrics"]["documents"]
    assert kb.search("how long does a refund take", k=1)
    # And the rebuilt index opens as it is from now on.
    assert len(KnowledgeBase.open(index_dir, encoder=live)) == before["metrics"]["documents"]


def test_index_of_other_weights_still_stops_startup(index_dir: Path) -> None:
    with pytest.raises(EncoderMismatchError):
        load_knowledge_base(
            Settings(data_dir=index_dir.parent), encoder=HashingEncoder(model_id="test/other@1")
        )
