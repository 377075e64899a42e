"""The answerability gate artifact."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import EncoderMismatchError
from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.gate_family import gate_dir
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder


def test_gate_round_trips_through_its_artifact(tmp_path: Path) -> None:
    encoder = HashingEncoder(32)
    gate = AnswerabilityGate(threshold=0.45, slope=20.0, intercept=-9.0)
    gate.save(
        tmp_path / "gate",
        name="gate-test",
        version="7",
        encoder=encoder,
        training_data={"answerable": "x"},
        metrics={"balanced_accuracy": 0.9},
    )
    loaded = AnswerabilityGate.from_artifact(tmp_path / "gate", encoder=encoder)
    assert (loaded.threshold, loaded.slope, loaded.intercept) == (0.45, 20.0, -9.0)
    assert loaded.version == "gate-test@7"
    assert loaded.answerable(0.45) and not loaded.answerable(0.44)
    assert loaded.probability(0.9) > 0.5 > loaded.probability(0.2)


def test_shipped_gate_refuses_another_encoder() -> None:
    with pytest.raises(EncoderMismatchError):
        AnswerabilityGate.from_artifact(Settings().drafts_gate_dir, encoder=HashingEncoder())


@pytest.mark.encoder
def test_shipped_gate_loads_with_the_real_encoder(real_encoder) -> None:  # type: ignore[no-untyped-def]
    gate = AnswerabilityGate.from_artifact(gate_dir(Settings(), real_encoder), encoder=real_encoder)
    assert 0.3 < gate.threshold < 0.7
    assert gate.probability(gate.threshold + 0.2) > 0.9
