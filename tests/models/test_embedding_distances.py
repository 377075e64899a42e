"""Nearest examples, their vote, class Gaussians and the scope detector, against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from models.embedding_distances import (
    ClassGaussians,
    ScopeDetector,
    knn_similarity,
    knn_vote,
    nearest_neighbours,
)
from models.errors import ArtifactError


def _unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_blockwise_neighbours_equal_brute_force() -> None:
    rng = np.random.default_rng(0)
    queries, prototypes = _unit(rng, 7), _unit(rng, 53)
    sims, idx = nearest_neighbours(queries, prototypes, 5, block=8)
    full = queries @ prototypes.T
    expected = np.argsort(-full, axis=1)[:, :5]
    assert np.array_equal(idx, expected)
    assert np.allclose(sims, np.take_along_axis(full, expected, axis=1), atol=1e-6)
    assert np.allclose(knn_similarity(sims, 3), sims[:, :3].mean(axis=1))


@pytest.mark.parametrize("k", [1, 5])
def test_one_pass_neighbours_of_a_request_equal_brute_force(k: int) -> None:
    rng = np.random.default_rng(1)
    queries, prototypes = _unit(rng, 3), _unit(rng, 5000)
    sims, idx = nearest_neighbours(queries, prototypes, k)  # one product, no blocks
    full = queries @ prototypes.T
    expected = np.argsort(-full, axis=1)[:, :k]
    assert idx.dtype == np.int64 and sims.dtype == np.float64
    assert np.array_equal(idx, expected)
    assert np.allclose(sims, np.take_along_axis(full, expected, axis=1), atol=1e-6)
    assert np.array_equal(nearest_neighbours(queries, prototypes, k, block=512)[1], idx)


def test_vote_favours_the_label_of_the_nearest_examples() -> None:
    sims = np.array([[0.9, 0.8, 0.2], [0.5, 0.5, 0.5]])
    idx = np.array([[0, 1, 2], [0, 1, 2]])
    labels = np.array([1, 1, 0])
    vote = knn_vote(sims, idx, labels, 3, k=3, tau=0.05)
    assert vote[0].argmax() == 1
    assert np.isclose(np.exp(vote[1, 1]) - 1e-4, 2 / 3, atol=1e-6)
    assert vote[0, 2] == vote[1, 2] == pytest.approx(np.log(1e-4))


def test_mahalanobis_matches_the_definition() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 4))
    y = np.repeat([0, 1, 2], 20)
    gaussians = ClassGaussians.fit(x, y, shrinkage=0.0)
    q = rng.normal(size=(5, 4))
    p = gaussians.precision.astype(np.float64)
    brute = np.array(
        [min((v - m) @ p @ (v - m) for m in gaussians.means.astype(np.float64)) for v in q]
    )
    assert np.allclose(gaussians.min_distance(q), brute, rtol=1e-4)
    with pytest.raises(ArtifactError, match="precision"):
        ClassGaussians(means=gaussians.means, precision=np.eye(3, dtype=np.float32))


def test_scope_detector_round_trips_and_refuses_other_features() -> None:
    detector = ScopeDetector(
        coef=(1.0, 2.0, 0.5),
        intercept=-0.2,
        mean=(0.5, 0.4, -10.0),
        scale=(0.2, 0.1, 3.0),
        threshold=0.4,
    )
    again = ScopeDetector.from_json(detector.to_json())
    features = np.array([[0.9, 0.7, -5.0], [0.1, 0.1, -30.0]])
    assert np.allclose(again.score(features), detector.score(features))
    inside, outside = detector.score(features)
    assert inside > detector.threshold > outside
    raw = detector.to_json() | {"features": ["p_scope", "knn_similarity"]}
    with pytest.raises(ArtifactError, match="features"):
        ScopeDetector.from_json(raw)
