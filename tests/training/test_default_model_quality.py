"""The shipped recipe, retrained on 80 % of Bitext, meets its accuracy bar on the other 20 %."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from models.intent_classifier import IntentClassifier
from training.datasets import clinc_negatives, concatenate, read_labelled_csv
from training.evaluation import evaluate_labels
from training.intent_training import TrainingConfig, encode_texts, train_intent_classifier

pytestmark = [pytest.mark.encoder, pytest.mark.data]


def test_default_recipe_holdout_accuracy_on_bitext(
    shared_data: Path, real_encoder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data = read_labelled_csv(
        shared_data / "bitext_customer_support.csv",
        text_column="instruction",
        label_column="intent",
        category_column="category",
    )
    rng = random.Random(0)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(data.labels):
        by_label.setdefault(label, []).append(i)
    test_rows: list[int] = []
    for rows in by_label.values():
        rng.shuffle(rows)
        test_rows += rows[: round(0.2 * len(rows))]
    held = set(test_rows)
    supplement = read_labelled_csv(
        Path(__file__).resolve().parents[2] / "training" / "data" / "intent_supplement.csv",
        text_column="instruction",
        label_column="intent",
        category_column="category",
    )
    train = concatenate(data.subset(i for i in range(len(data)) if i not in held), supplement)
    test = data.subset(sorted(held))
    clinc = read_labelled_csv(
        shared_data / "clinc150_train.csv", text_column="text", label_column="label"
    )
    negatives = clinc_negatives(clinc, per_intent=5)
    result = train_intent_classifier(
        train,
        encoder=real_encoder,
        negatives=negatives,
        config=TrainingConfig(max_in_scope_drop=0.005, distance_scores=False),
        categories=data.categories,
    )
    result.classifier.save(tmp_path / "m")
    clf = IntentClassifier.from_artifact(tmp_path / "m", encoder=real_encoder)
    embeddings = encode_texts(real_encoder, test.texts).astype("float32")
    predicted = [p.label for p in clf.predict_embedded(embeddings, test.texts)]
    report = evaluate_labels(test.labels, predicted, oos_label="out_of_scope")
    assert report.accuracy >= 0.97, report.summary()
