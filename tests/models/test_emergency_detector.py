"""The emergency detector: situations from meaning, a calibrated threshold, artifact checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.emergency_detector import EmergencyDetector, EmergencyHeads
from models.emergency_situations import SITUATION_NAMES, SITUATIONS, situation_phrase
from models.errors import ArtifactError
from models.message_analyzer import MessageAnalyzer
from models.urgency_classifier import UrgencyClassifier
from tests.fixtures.hashing_encoder import HashingEncoder
from training.urgency_emergency_training import (
    EmergencyData,
    build_data,
    calibrate,
    train_emergency,
)
from training.urgency_training import VARIED_DATA, read_examples


@pytest.fixture(scope="module")
def detector_training(hashing_encoder: HashingEncoder):  # type: ignore[no-untyped-def]
    """A detector fitted on part of the varied training set with the hashing encoder."""
    rows = read_examples(VARIED_DATA, default_split="train")
    # Ten messages per situation and 120 others keep the fit (5-fold) quick.
    picked = [r for name in SITUATION_NAMES for r in [r for r in rows if r.situation == name][:10]]
    picked += [r for r in rows if r.level != "critical"][:120]
    data = build_data(picked, [], encoder=hashing_encoder, analyzer=MessageAnalyzer())
    routine_texts = [
        "what's the weather tomorrow",
        "set a timer for ten minutes",
        "how do i reset my pin",
    ]
    return train_emergency(
        data,
        hashing_encoder.encode(routine_texts),
        routine_texts,
        encoder=hashing_encoder,
        c_grid=(4.0,),
        scale_grid=(1.0,),
        n_buckets=2**12,
    )


def test_every_situation_has_a_phrase_and_descriptions() -> None:
    assert len(set(SITUATION_NAMES)) == len(SITUATIONS) >= 8
    for situation in SITUATIONS:
        assert situation.phrase and len(situation.descriptions) >= 3
        assert situation_phrase(situation.name) == situation.phrase


def test_varied_training_set_is_large_and_names_a_situation_for_every_emergency() -> None:
    rows = read_examples(VARIED_DATA, default_split="train")
    assert len(rows) >= 1200
    assert {r.split for r in rows} == {"train"}
    critical = [r for r in rows if r.level == "critical"]
    assert all(r.situation in SITUATION_NAMES for r in critical)
    assert {r.situation for r in critical} == set(SITUATION_NAMES)
    assert all(r.situation is None for r in rows if r.level != "critical")


def test_detector_decision_follows_its_threshold(detector_training, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    detector = detector_training.detector
    texts = ["someone took money from my card without my permission", "thanks, all sorted"]
    vectors = hashing_encoder.encode(texts)
    with pytest.raises(ValueError, match="reads the text"):
        detector.detect(vectors)
    findings = detector.detect(vectors, texts)
    for finding in findings:
        assert 0.0 <= finding.score <= 1.0
        assert finding.situation in SITUATION_NAMES
        assert finding.is_emergency == (finding.score >= detector.threshold)
    # The operator's threshold overrides the calibrated one.
    assert all(f.is_emergency for f in detector.detect(vectors, texts, threshold=1e-9))
    assert not any(f.is_emergency for f in detector.detect(vectors, texts, threshold=1.0))


def test_calibration_keeps_false_alarms_within_the_budget() -> None:
    rng = np.random.default_rng(0)
    y = np.array([1] * 50 + [0] * 150)
    oof = np.concatenate([rng.uniform(0.3, 1.0, 50), rng.uniform(0.0, 0.6, 150)])
    routine = rng.uniform(0.0, 0.7, 2000)
    cal = calibrate(oof, y, routine, c=1.0, scale=0.0, budget=5.0)
    assert cal.false_alarms_per_1000 <= 5.0
    assert 1000.0 * float(np.mean(routine >= cal.threshold)) == pytest.approx(
        cal.false_alarms_per_1000
    )
    looser = calibrate(oof, y, routine, c=1.0, scale=0.0, budget=100.0)
    assert looser.threshold <= cal.threshold and looser.recall >= cal.recall


def test_heads_refuse_shapes_that_do_not_fit() -> None:
    k, d = len(SITUATIONS), 8
    good = {
        "coef": np.zeros((k + 1, d + k), dtype=np.float32),
        "intercept": np.zeros(k + 1, dtype=np.float32),
        "prototypes": np.eye(k, d, dtype=np.float32),
        "prototype_situation": np.arange(k, dtype=np.int64),
        "situations": SITUATION_NAMES,
        "phrases": tuple(s.phrase for s in SITUATIONS),
        "similarity_scale": 1.0,
        "threshold": 0.5,
    }
    EmergencyHeads(**good)  # type: ignore[arg-type]
    for change in (
        {"coef": np.zeros((k, d + k), dtype=np.float32)},
        {"threshold": 1.0},
        {"prototype_situation": np.zeros(k, dtype=np.int64)},
        {"phrases": ("one",)},
    ):
        with pytest.raises(ArtifactError):
            EmergencyHeads(**{**good, **change})  # type: ignore[arg-type]


def _classifier_with_detector(
    tiny_urgency_dir: Path, hashing_encoder: HashingEncoder, detector: EmergencyDetector
) -> UrgencyClassifier:
    base = UrgencyClassifier.from_artifact(tiny_urgency_dir, encoder=hashing_encoder)
    return UrgencyClassifier(
        base.heads, encoder=hashing_encoder, name="urgency-tiny", version="2", emergency=detector
    )


def test_artifact_round_trip_keeps_the_detector(
    detector_training,  # type: ignore[no-untyped-def]
    tiny_urgency_dir: Path,
    hashing_encoder: HashingEncoder,
    tmp_path: Path,
) -> None:
    model = _classifier_with_detector(tiny_urgency_dir, hashing_encoder, detector_training.detector)
    model.save(tmp_path / "u", emergency_descriptions=detector_training.descriptions)
    again = UrgencyClassifier.from_artifact(tmp_path / "u", encoder=hashing_encoder)
    assert again.emergency is not None
    assert again.emergency.threshold == model.emergency.threshold  # type: ignore[union-attr]
    meta = json.loads((tmp_path / "u" / "emergency.json").read_text(encoding="utf-8"))
    assert meta["descriptions"] == detector_training.descriptions
    texts = ["my kettle caught fire", "where is my order 4411829"]
    vectors = hashing_encoder.encode(texts)
    a = model.emergency.proba(vectors, texts)  # type: ignore[union-attr]
    b = again.emergency.proba(vectors, texts)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_critical_comes_from_the_detector_and_names_the_situation(
    detector_training,  # type: ignore[no-untyped-def]
    tiny_urgency_dir: Path,
    hashing_encoder: HashingEncoder,
) -> None:
    model = _classifier_with_detector(tiny_urgency_dir, hashing_encoder, detector_training.detector)
    analyzer = MessageAnalyzer()
    texts = [
        "there is a payment on my card that i did not make",
        "the heater started smoking and caught fire",
        "what payment methods do you accept",
        "thanks, it works now",
    ]
    analyses = [analyzer.analyze(t) for t in texts]
    focus = [a.focus_text for a in analyses]
    vectors = hashing_encoder.encode(focus)
    findings = model.emergency.detect(vectors, focus)  # type: ignore[union-attr]
    decisions = model.assess(vectors, [a.signals for a in analyses], texts=focus)
    for finding, decision in zip(findings, decisions, strict=True):
        assert decision.critical_score == finding.score
        assert (decision.level == "critical") == finding.is_emergency
        if decision.level == "critical":
            assert decision.situation == finding.situation
            assert decision.reasons[0] == f"emergency: {finding.phrase}"
        else:
            assert decision.situation is None
            assert not any(r.startswith("reads like earlier critical") for r in decision.reasons)


def test_artifact_missing_a_detector_file_is_refused(
    detector_training,  # type: ignore[no-untyped-def]
    tiny_urgency_dir: Path,
    hashing_encoder: HashingEncoder,
    tmp_path: Path,
) -> None:
    model = _classifier_with_detector(tiny_urgency_dir, hashing_encoder, detector_training.detector)
    model.save(tmp_path / "u")
    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "u", broken)
    (broken / "emergency_prototypes.npy").unlink()
    with pytest.raises(ArtifactError):
        UrgencyClassifier.from_artifact(broken, encoder=hashing_encoder)
    lexical = tmp_path / "lexical"
    shutil.copytree(tmp_path / "u", lexical)
    (lexical / "emergency_idf.npy").unlink()
    with pytest.raises(ArtifactError):
        UrgencyClassifier.from_artifact(lexical, encoder=hashing_encoder)


def test_detector_from_another_dimension_is_refused(
    detector_training,  # type: ignore[no-untyped-def]
    tiny_urgency_dir: Path,
) -> None:
    wide = HashingEncoder(dimension=128)
    with pytest.raises(ArtifactError):
        UrgencyClassifier(
            UrgencyClassifier.from_artifact(tiny_urgency_dir, encoder=HashingEncoder()).heads,
            encoder=wide,
            emergency=detector_training.detector,
        )


def test_build_data_refuses_an_emergency_without_situation(hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    rows = read_examples(VARIED_DATA, default_split="train")[:3]
    broken = [r for r in rows if r.level == "critical"][:1]
    assert broken
    from dataclasses import replace

    with pytest.raises(ValueError, match="names no emergency situation"):
        build_data(
            [replace(broken[0], situation=None)],
            [],
            encoder=hashing_encoder,
            analyzer=MessageAnalyzer(),
        )
    assert isinstance(
        build_data(rows, [], encoder=hashing_encoder, analyzer=MessageAnalyzer()), EmergencyData
    )
