"""Which artifacts a backend may serve: fp32 backends interchangeably; across fp32 and int8
only the intent and urgency heads; other weights never."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.artifact_manifest import (
    ArtifactManifest,
    EncoderInfo,
    check_encoder,
    embedding_family,
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


def test_ids_split_into_weights_and_family() -> None:
    assert weights_id("a/b@12+onnx-int8-avx512_vnni") == "a/b@12"
    assert weights_id("a/b@12") == "a/b@12"
    assert embedding_family("a/b@12") == embedding_family("a/b@12+onnx-fp32") == "fp32"
    assert embedding_family("a/b@12+onnx-int8-avx2") == "onnx-int8-avx2"


@pytest.mark.parametrize("type_", ["intent-classifier", "urgency-classifier"])
def test_intent_and_urgency_heads_cross_to_int8(type_: str) -> None:
    check_encoder(
        manifest(type_), HashingEncoder(model_id=f"{BUILT}+onnx-int8-avx2"), source=Path("x")
    )


@pytest.mark.parametrize("type_", ["kb-index", "answerability-gate", "intent-classifier"])
def test_every_artifact_is_served_by_the_onnx_fp32_twin(type_: str) -> None:
    check_encoder(manifest(type_), HashingEncoder(model_id=f"{BUILT}+onnx-fp32"), source=Path("x"))


@pytest.mark.parametrize("type_", ["kb-index", "answerability-gate"])
def test_stored_vectors_and_the_gate_need_their_family(type_: str) -> None:
    with pytest.raises(EncoderMismatchError, match="rebuild"):
        check_encoder(
            manifest(type_), HashingEncoder(model_id=f"{BUILT}+onnx-int8-avx2"), source=Path("x")
        )


def test_other_weights_are_always_refused() -> None:
    with pytest.raises(EncoderMismatchError):
        check_encoder(
            manifest("intent-classifier"),
            HashingEncoder(model_id="test/hashing@def+onnx-fp32"),
            source=Path("x"),
        )
