"""Each encoder family gets the shipped answerability gate fitted on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.errors import EncoderMismatchError
from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.gate_family import gate_dir
from service.settings import DEFAULT_DRAFTS_GATE, DEFAULT_DRAFTS_GATE_FP32, Settings
from tests.fixtures.hashing_encoder import HashingEncoder

WEIGHTS = json.loads((DEFAULT_DRAFTS_GATE_FP32 / "manifest.json").read_text())["encoder"][
    "model_id"
]
INT8 = json.loads((DEFAULT_DRAFTS_GATE / "manifest.json").read_text())["encoder"]["model_id"]


@pytest.mark.parametrize("model_id", [WEIGHTS, f"{WEIGHTS}+onnx-fp32", INT8])
def test_shipped_gate_of_the_encoders_family_loads(model_id: str) -> None:
    encoder = HashingEncoder(384, model_id=model_id)
    folder = gate_dir(Settings(), encoder)
    assert folder == (DEFAULT_DRAFTS_GATE if "int8" in model_id else DEFAULT_DRAFTS_GATE_FP32)
    assert AnswerabilityGate.from_artifact(folder, encoder=encoder).threshold > 0


def test_gate_of_the_other_family_is_refused() -> None:
    with pytest.raises(EncoderMismatchError):
        AnswerabilityGate.from_artifact(
            DEFAULT_DRAFTS_GATE_FP32, encoder=HashingEncoder(384, model_id=INT8)
        )


def test_an_explicit_gate_is_kept(tmp_path: Path) -> None:
    settings = Settings(drafts_gate_dir=tmp_path)
    assert gate_dir(settings, HashingEncoder(384, model_id=WEIGHTS)) == tmp_path
