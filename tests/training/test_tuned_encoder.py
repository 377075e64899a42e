"""The fine-tuned second encoder (``--fine-tune-encoder``): its weight is chosen like the
other optional parts', it is exported to ONNX inside the intent artifact, and the served
model adds exactly its weighted log-probabilities."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError
from models.intent_classifier import IntentClassifier
from models.tuned_encoder_head import TUNED_ENCODER_FOLDER, TUNED_HEAD_FILES
from training.datasets import read_labelled_csv
from training.encoder_fine_tuning import FineTuneConfig, fit_classifier, tokenize
from training.intent_training import (
    ScorePart,
    TrainingConfig,
    choose_part_weights,
    train_intent_classifier,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_a_part_is_kept_only_for_a_lift_above_its_bar() -> None:
    # Every row is class 0. The base gets rows 0-3 right and 4-9 wrong; part A puts
    # rows 0-5 firmly in class 0, part B rows 4-9.
    y = np.zeros(10, dtype=np.int64)
    row = np.arange(10)[:, None]
    base = np.where(row < 4, [10.0, 0.0], [0.0, 10.0])
    a = np.where(row < 6, [20.0, 0.0], 0.0)
    b = np.where(row >= 4, [20.0, 0.0], 0.0)
    grid = (0.0, 1.0)
    chosen, accuracy = choose_part_weights(
        base, [ScorePart(a, grid, 0.001), ScorePart(b, grid, 0.001)], y
    )
    assert accuracy[0, 0] == pytest.approx(0.4) and accuracy[1, 0] == pytest.approx(0.6)
    # B alone reaches 1.0, so A is dropped once B is on: it adds nothing beside it.
    assert chosen == (0, 1)
    # With a bar above B's lift over A, B stays off and A is kept.
    chosen, _ = choose_part_weights(base, [ScorePart(a, grid, 0.001), ScorePart(b, grid, 0.5)], y)
    assert chosen == (1, 0)
    # A part offered with one weight only (0) is never switched on.
    chosen, _ = choose_part_weights(base, [ScorePart(a, (0.0,), 0.0), ScorePart(b, grid, 0.9)], y)
    assert chosen == (0, 0)


@pytest.mark.encoder
def test_fine_tuned_encoder_round_trips_through_the_artifact(tmp_path: Path) -> None:
    from models.encoder_factory import build_encoder

    encoder = build_encoder("onnx-int8")
    data = read_labelled_csv(
        FIXTURES / "intents_tiny.csv", text_column="text", label_column="label"
    )
    tuning = FineTuneConfig(epochs=6, batch_size=8, lr_encoder=1e-4, threads=1)
    labels = sorted(set(data.labels))
    y = np.array([labels.index(label) for label in data.labels])
    tokens = tokenize(data.texts, max_length=tuning.max_length)
    model = fit_classifier(tokens, y, np.arange(len(y)), len(labels), tuning)
    from training.encoder_fine_tuning import tuned_log_proba

    # It learns: the fine-tuned classifier reproduces its training labels.
    assert (tuned_log_proba(model, tokens).argmax(axis=1) == y).mean() >= 0.9

    result = train_intent_classifier(
        data,
        encoder=encoder,
        config=TrainingConfig(
            folds=2,
            gibberish_negatives=20,
            lexical_buckets=2**12,
            fine_tune=tuning,
            tuned_grid=(1.0,),
            tuned_tolerance=-1.0,
        ),
    )
    heads = result.classifier.heads
    assert heads.tuned is not None and heads.tuned_weight == 1.0
    # Served like the default backend: an int8 export, checked against torch.
    assert "+onnx-int8" in heads.tuned.model_id
    # Its weight was chosen on held-out scores of what is served: each fold's int8 export.
    assert result.metrics["tuned_heldout_scored_with"] == "onnx-int8 export"
    assert result.metrics["tuned_export_top1_agreement"] >= 0.9
    assert result.metrics["tuned_export_cosine_to_torch_mean"] > 0.95
    texts = ["where is my parcel", "I want my money back", "refund please"]
    emb = encoder.encode(texts)
    plain = IntentClassifier(
        dataclasses.replace(heads, tuned=None, tuned_weight=0.0), encoder=encoder
    )
    shift = result.classifier.fused_logits(emb, texts) - plain.fused_logits(emb, texts)
    np.testing.assert_allclose(shift, heads.tuned.log_proba(texts), atol=1e-9)
    assert not np.allclose(shift, shift[:, :1])

    folder = tmp_path / "tuned"
    result.classifier.save(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {f"{TUNED_ENCODER_FOLDER}/model.onnx", *TUNED_HEAD_FILES} <= set(manifest["files"])
    assert manifest["params"]["tuned_encoder"]["model_id"] == heads.tuned.model_id
    again = IntentClassifier.from_artifact(folder, encoder=encoder)
    np.testing.assert_allclose(
        again.predict_proba(texts), result.classifier.predict_proba(texts), atol=1e-9
    )
    # A damaged copy of the tuned encoder is refused at load, not served.
    graph = folder / TUNED_ENCODER_FOLDER / "model.onnx"
    graph.write_bytes(graph.read_bytes()[:-16] + b"\0" * 16)
    with pytest.raises(ArtifactError):
        IntentClassifier.from_artifact(folder, encoder=encoder)
