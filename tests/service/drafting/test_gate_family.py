"""Each encoder family gets the shipped answerability gate fitted on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.errors import EncoderMismatchError
from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.gate_family import gate_dir
from service.settings import (
    DEFAULT_DRAFTS_GATE,
    DEFAULT_DRAFTS_GATE_FP32,
    DEFAULT_DRAFTS_GATE_INT8_AVX2,
    Settings,
)
from tests.fixtures.hashing_encoder import HashingEncoder


def _encoder_of(folder: Path) -> str:
    return str(json.loads((folder / "manifest.json").read_text())["encoder"]["model_id"])


WEIGHTS = _encoder_of(DEFAULT_DRAFTS_GATE_FP32)
INT8 = _encoder_of(DEFAULT_DRAFTS_GATE)
INT8_AVX2 = _encoder_of(DEFAULT_DRAFTS_GATE_INT8_AVX2)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (WEIGHTS, DEFAULT_DRAFTS_GATE_FP32),
        (f"{WEIGHTS}+onnx-fp32", DEFAULT_DRAFTS_GATE_FP32),
        (INT8, DEFAULT_DRAFTS_GATE),
        (INT8_AVX2, DEFAULT_DRAFTS_GATE_INT8_AVX2),
        # An int8 config no gate was fitted on: the default int8 gate serves it.
        (f"{WEIGHTS}+onnx-int8-arm64", DEFAULT_DRAFTS_GATE),
    ],
)
def test_shipped_gate_of_the_encoders_family_loads(model_id: str, expected: Path) -> None:
    assert INT8 != INT8_AVX2 and "avx2" in INT8_AVX2
    encoder = HashingEncoder(384, model_id=model_id)
    folder = gate_dir(Settings(), encoder)
    assert folder == expected
    assert AnswerabilityGate.from_artifact(folder, encoder=encoder).threshold > 0


@pytest.mark.parametrize(
    ("folder", "model_id"),
    [(DEFAULT_DRAFTS_GATE_FP32, INT8), (DEFAULT_DRAFTS_GATE_INT8_AVX2, WEIGHTS)],
)
def test_gate_of_the_other_numeric_family_is_refused(folder: Path, model_id: str) -> None:
    with pytest.raises(EncoderMismatchError):
        AnswerabilityGate.from_artifact(folder, encoder=HashingEncoder(384, model_id=model_id))


def test_int8_gate_of_other_weights_is_refused() -> None:
    other = INT8.replace("@", "@0000", 1)
    with pytest.raises(EncoderMismatchError):
        AnswerabilityGate.from_artifact(
            DEFAULT_DRAFTS_GATE, encoder=HashingEncoder(384, model_id=other)
        )


def test_an_explicit_gate_is_kept(tmp_path: Path) -> None:
    settings = Settings(drafts_gate_dir=tmp_path)
    assert gate_dir(settings, HashingEncoder(384, model_id=WEIGHTS)) == tmp_path
