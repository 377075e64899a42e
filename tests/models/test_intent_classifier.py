"""Intent classifier: artifact round trip, refusal of corrupt or foreign artifacts, decisions."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.errors import ArtifactError, EncoderMismatchError, InvalidInputError
from models.intent_classifier import IntentClassifier
from tests.fixtures.hashing_encoder import HashingEncoder


def test_artifact_round_trip_gives_identical_probabilities(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    texts = ["where is my parcel please", "reset my password"]
    copy = tmp_path / "copy"
    clf.save(copy)
    again = IntentClassifier.from_artifact(copy, encoder=hashing_encoder)
    assert np.allclose(clf.predict_proba(texts), again.predict_proba(texts), atol=1e-4)
    assert again.labels == clf.labels
    assert again.categories["track_order"] == "ORDER"


def test_manifest_records_encoder_labels_categories_and_checksums(tiny_intent_dir: Path) -> None:
    manifest = json.loads((tiny_intent_dir / "manifest.json").read_text())
    assert manifest["type"] == "intent-classifier"
    assert manifest["encoder"] == {"model_id": "test/hashing-encoder", "dimension": 64}
    assert set(manifest["labels"]) >= {"track_order", "get_refund"}
    assert manifest["params"]["categories"]["get_refund"] == "REFUND"
    assert manifest["training_data"]["sha256"]
    assert "numpy" in manifest["libraries"]
    for name, digest in manifest["files"].items():
        assert (tiny_intent_dir / name).is_file()
        assert len(digest) == 64


def test_predicts_trained_intents_with_category(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    track, refund = clf.predict(["where is my parcel", "i want a refund for my purchase"])
    assert track.label == "track_order"
    assert track.category == "ORDER"
    assert refund.label == "get_refund"
    assert 0.0 <= refund.confidence <= 1.0
    assert all(a.label != refund.label for a in refund.alternatives)


def test_probabilities_sum_to_one(tiny_intent_dir: Path, hashing_encoder: HashingEncoder) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    proba = clf.predict_proba(["hello there", "refund", "xyz"])
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_gibberish_is_out_of_scope(tiny_intent_dir: Path, hashing_encoder: HashingEncoder) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    (pred,) = clf.predict(["qwvzx jjkpt wwwq"])
    assert pred.out_of_scope
    assert pred.label == "out_of_scope"
    assert pred.category is None


def test_empty_text_is_rejected(tiny_intent_dir: Path, hashing_encoder: HashingEncoder) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    with pytest.raises(InvalidInputError):
        clf.predict(["   "])


def test_loading_with_another_encoder_fails_clearly(tiny_intent_dir: Path) -> None:
    other = HashingEncoder(model_id="test/another-encoder")
    with pytest.raises(EncoderMismatchError, match="another-encoder"):
        IntentClassifier.from_artifact(tiny_intent_dir, encoder=other)


def test_loading_with_another_dimension_fails(tiny_intent_dir: Path) -> None:
    with pytest.raises(EncoderMismatchError, match="expects 64-d"):
        IntentClassifier.from_artifact(tiny_intent_dir, encoder=HashingEncoder(dimension=32))


def test_edited_weight_file_fails_checksum(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_intent_dir, broken)
    coef = np.load(broken / "emb_coef.npy")
    np.save(broken / "emb_coef.npy", coef * 2)
    with pytest.raises(ArtifactError, match=r"checksum mismatch for emb_coef\.npy"):
        IntentClassifier.from_artifact(broken, encoder=hashing_encoder)


def test_missing_weight_file_fails(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_intent_dir, broken)
    (broken / "emb_intercept.npy").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        IntentClassifier.from_artifact(broken, encoder=hashing_encoder)


def test_missing_folder_and_wrong_type_fail(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        IntentClassifier.from_artifact(tmp_path / "nowhere", encoder=hashing_encoder)
    other = tmp_path / "other"
    shutil.copytree(tiny_intent_dir, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["type"] = "kb-index"
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="not 'intent-classifier'"):
        IntentClassifier.from_artifact(other, encoder=hashing_encoder)


def test_ambiguous_flag_when_top_two_are_close(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder
) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    labels = list(clf.labels)
    row = np.zeros((1, len(labels)))
    # The top intent must clear the fitted rejection threshold (0.5 on this fixture), and
    # the second stays within the ambiguity margin of it.
    row[0, labels.index("track_order")] = 0.53
    row[0, labels.index("get_refund")] = 0.43
    row[0] += (1 - row.sum()) / len(labels)
    assert row[0].max() > clf.heads.oos_threshold
    (decision,) = clf.decide(row)
    assert not decision.out_of_scope
    assert decision.ambiguous
    assert decision.alternatives[0].label == "get_refund"


@pytest.mark.parametrize("threshold", [-1.0, 0.0, 0.3, 0.6, 0.9, 2.0])
def test_similarity_test_settled_by_the_best_intents_examples_decides_as_all_examples(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, threshold: float
) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    assert clf.heads.prototypes is not None and clf.heads.vote_weight <= 0
    clf = IntentClassifier(
        replace(clf.heads, similarity_threshold=threshold),
        encoder=hashing_encoder,
        categories=clf.categories,
    )
    texts = ["where is my parcel", "refund please", "xyz qq", "reset my password", "hello"]
    embeddings = hashing_encoder.encode(texts)
    proba = clf.predict_proba_embedded(embeddings, texts)
    similarity = clf.similarity(embeddings)
    assert similarity is not None
    for batch in ([0], [2], [0, 1, 2, 3, 4]):
        fast = clf.predict_embedded(embeddings[batch], [texts[i] for i in batch])
        full = clf.decide(proba[batch], similarity=similarity[batch])
        assert fast == full


def test_a_model_reads_typos_as_its_training_words_and_stores_them(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    manifest = json.loads((tiny_intent_dir / "manifest.json").read_text())
    assert manifest["params"]["vocabulary"] is True
    assert "vocabulary.json" in manifest["files"]
    assert clf.reading("where is my parcle") == "where is my parcel"
    typed, clean = (
        clf.predict_proba(["where is my parcle"]),
        clf.predict_proba(["where is my parcel"]),
    )
    assert np.allclose(typed, clean)
    # Evaluation hands in vectors of the texts as typed; the typo'd one is encoded again.
    texts = ["where is my parcle", "i want a refund"]
    as_typed = hashing_encoder.encode(texts)
    read = clf.predict_read(texts, as_typed)
    assert [d.label for d in read] == [d.label for d in clf.predict(texts)]
    assert np.allclose(as_typed, hashing_encoder.encode(texts))  # the caller's array untouched
    copy = tmp_path / "copy"
    clf.save(copy)
    assert IntentClassifier.from_artifact(copy, encoder=hashing_encoder).reading(
        "where is my parcle"
    ) == ("where is my parcel")


def test_an_artifact_without_training_words_reads_messages_as_typed(
    tiny_intent_dir: Path, hashing_encoder: HashingEncoder, tmp_path: Path
) -> None:
    clf = IntentClassifier.from_artifact(tiny_intent_dir, encoder=hashing_encoder)
    older = IntentClassifier(
        replace(clf.heads, vocabulary=None), encoder=hashing_encoder, categories=clf.categories
    )
    older.save(tmp_path / "older")
    assert not (tmp_path / "older" / "vocabulary.json").exists()
    again = IntentClassifier.from_artifact(tmp_path / "older", encoder=hashing_encoder)
    assert again.reading("where is my parcle") == "where is my parcle"
