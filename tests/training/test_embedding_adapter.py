"""The embedding adapter: fitted with torch, stored as .npy, applied in numpy, kept only
where it lifts held-out accuracy."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from models.embedding_adapter import ADAPTER_FILES, EmbeddingAdapter
from models.errors import ArtifactError
from models.intent_classifier import IntentClassifier
from tests.fixtures.table_encoder import TableEncoder, xor_intents
from training.adapter_training import AdapterConfig, fit_adapter
from training.datasets import LabelledTexts, read_labelled_csv
from training.intent_training import ADAPTER_GRID, TrainingConfig, train_intent_classifier

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FAST = AdapterConfig(hidden=64, epochs=60, batch_size=16, learning_rate=3e-3)


def test_adapter_is_kept_where_one_linear_boundary_is_not_enough(tmp_path: Path) -> None:
    data, encoder, probe = xor_intents()
    config = TrainingConfig(
        lexical=False,
        folds=3,
        gibberish_negatives=5,
        vote_grid=(0.0,),
        adapter_grid=ADAPTER_GRID,
        adapter=FAST,
    )
    result = train_intent_classifier(data, encoder=encoder, config=config)
    heads = result.classifier.heads
    assert heads.adapter is not None and heads.adapter_weight > 0
    by_weight = result.metrics["adapter_accuracy_by_weight"]
    assert max(by_weight.values()) > by_weight["0.0"] + 0.2, by_weight
    # Without the adapter the linear head gets the XOR wrong; with it, right.
    plain = IntentClassifier(
        dataclasses.replace(heads, adapter=None, adapter_weight=0.0), encoder=encoder
    )
    assert [p.label for p in plain.predict(probe)] != ["a", "a", "b", "b"]
    result.classifier.save(tmp_path / "adapter")
    manifest = json.loads((tmp_path / "adapter" / "manifest.json").read_text())
    assert set(ADAPTER_FILES) <= set(manifest["files"])
    again = IntentClassifier.from_artifact(tmp_path / "adapter", encoder=encoder)
    assert [p.label for p in again.predict(probe)] == ["a", "a", "b", "b"]
    np.testing.assert_allclose(
        again.predict_proba(probe), result.classifier.predict_proba(probe), atol=1e-6
    )


def test_adapter_turns_itself_off_where_it_does_not_help() -> None:
    # Two well-separated blobs: the linear head is already right on every held-out row.
    rng = np.random.default_rng(1)
    table = {
        f"{lab}-{i}": np.array([*c, 0.0]) + rng.normal(0, 0.05, 3)
        for lab, c in (("a", (1, 0)), ("b", (0, 1)))
        for i in range(30)
    }
    data = LabelledTexts(
        texts=tuple(table), labels=tuple(t.split("-")[0] for t in table), source="t", sha256="0"
    )
    config = TrainingConfig(
        lexical=False, folds=3, gibberish_negatives=5, adapter_grid=ADAPTER_GRID, adapter=FAST
    )
    result = train_intent_classifier(data, encoder=TableEncoder(table), config=config)
    assert result.classifier.heads.adapter is None
    assert result.classifier.heads.adapter_weight == 0.0


@pytest.mark.encoder
def test_adapter_on_real_embeddings_round_trips_and_moves_probabilities(
    real_encoder,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    data = read_labelled_csv(
        FIXTURES / "intents_tiny.csv", text_column="text", label_column="label"
    )
    labels = sorted(set(data.labels))
    y = np.array([labels.index(label) for label in data.labels])
    x = real_encoder.encode(list(data.texts))
    adapter = fit_adapter(x, y, len(labels), FAST)
    # Fitted: it reproduces its training labels from real sentence embeddings.
    assert (adapter.log_proba(x).argmax(axis=1) == y).mean() > 0.95
    adapter.save(tmp_path)
    loaded = EmbeddingAdapter.load(tmp_path)
    np.testing.assert_array_equal(loaded.log_proba(x), adapter.log_proba(x))
    result = train_intent_classifier(
        data,
        encoder=real_encoder,
        config=TrainingConfig(
            folds=3,
            gibberish_negatives=20,
            lexical_buckets=2**12,
            adapter_grid=(2.0,),
            adapter_tolerance=-1.0,
            adapter=FAST,
        ),
    )
    heads = result.classifier.heads
    assert heads.adapter is not None and heads.adapter_weight == 2.0
    texts = ["where is my parcel", "I want my money back"]
    emb = real_encoder.encode(texts)
    plain = IntentClassifier(
        dataclasses.replace(heads, adapter=None, adapter_weight=0.0), encoder=real_encoder
    )
    # Forced on, it adds exactly its weighted log-probabilities to the fused scores.
    shift = result.classifier.fused_logits(emb, texts) - plain.fused_logits(emb, texts)
    np.testing.assert_allclose(shift, 2.0 * heads.adapter.log_proba(emb), atol=1e-9)
    assert not np.allclose(shift, shift[:, :1])  # it favours some labels over others


def test_adapter_with_mismatched_shapes_is_refused() -> None:
    with pytest.raises(ArtifactError):
        EmbeddingAdapter(
            w1=np.zeros((4, 3), np.float32),
            b1=np.zeros(2, np.float32),
            w2=np.zeros((3, 2), np.float32),
            b2=np.zeros(2, np.float32),
        )
