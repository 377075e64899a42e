"""Which artifacts a backend may serve: heads across backends of the same weights, stored
vectors (the KB index) only on the backend that wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.artifact_manifest import (
    ArtifactManifest,
    EncoderInfo,
    check_encoder,
    weights_id,
)
from models.errors import EncoderMismatchError
from tests.fixtures.hashing_encoder import HashingEncoder

BUILT = "test/hashing@abc"


def manifest(type_: str) -> ArtifactManifest:
    return ArtifactManifest(
        name="x",
        type=type_,
        version="1",
        created_at="2026-11-30T00:00:00+00:00",
        encoder=EncoderInfo(model_id=BUILT, dimension=64),
        files={},
    )


def test_weights_id_drops_the_backend_suffix() -> None:
    assert weights_id("a/b@12+onnx-int8-avx512_vnni") == "a/b@12"
    assert weights_id("a/b@12") == "a/b@12"


def test_head_is_served_by_another_backend_of_the_same_weights() -> None:
    check_encoder(
        manifest("intent-classifier"),
        HashingEncoder(model_id=f"{BUILT}+onnx-int8-avx2"),
        source=Path("x"),
    )


def test_stored_vectors_need_the_exact_backend() -> None:
    with pytest.raises(EncoderMismatchError, match="rebuild"):
        check_encoder(
            manifest("kb-index"), HashingEncoder(model_id=f"{BUILT}+onnx-fp32"), source=Path("x")
        )


def test_other_weights_are_always_refused() -> None:
    with pytest.raises(EncoderMismatchError):
        check_encoder(
            manifest("intent-classifier"),
            HashingEncoder(model_id="test/hashing@def+onnx-fp32"),
            source=Path("x"),
        )
