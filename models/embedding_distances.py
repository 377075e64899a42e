"""Distance-based evidence on sentence embeddings: nearest training examples and class
Gaussians.

A linear head's probability says which intent is likeliest, not whether a message looks
like any training message at all; out-of-scope messages are often confidently assigned
to some intent. Two distance scores answer that question (Lee et al. 2018; Podolskiy et
al. 2021 for intent detection): the mean cosine similarity to the nearest in-scope
training examples, and the Mahalanobis distance to the nearest intent's mean under one
shared covariance. The nearest examples also vote on the intent (a k-nearest-neighbour
head), which helps where one linear boundary per intent is too coarse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.errors import ArtifactError

FloatArray = npt.NDArray[np.float64]
#: The detector's inputs, in this order.
DETECTOR_FEATURES = ("p_scope", "knn_similarity", "neg_mahalanobis")
_VOTE_FLOOR = 1e-4
#: Up to this many query x prototype similarities, ``nearest_neighbours`` takes one product.
_ONE_PASS_CELLS = 1 << 20


def best_first(
    sims: npt.NDArray[np.floating[Any]], k: int
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Each row's ``k`` highest similarities and their column indices, best first. Any
    similarity will do (cosine, TF-IDF), so benches that score other similarities pick
    neighbours exactly as the models do."""
    k = max(1, min(k, sims.shape[1]))
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return _sorted_best_first(np.take_along_axis(sims, top, axis=1), top)


def _sorted_best_first(
    sims: npt.NDArray[np.floating[Any]], indices: npt.NDArray[np.int64]
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    order = np.argsort(-sims, axis=1, kind="stable")
    return (
        np.take_along_axis(sims, order, axis=1).astype(np.float64),
        np.take_along_axis(indices, order, axis=1).astype(np.int64, copy=False),
    )


def nearest_neighbours(
    queries: npt.NDArray[np.floating[Any]],
    prototypes: npt.NDArray[np.floating[Any]],
    k: int,
    *,
    block: int | None = None,
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Cosine similarities and indices of each query's ``k`` nearest prototypes, best first.

    Blockwise, so memory stays ``len(queries) x block`` however many prototypes there are.
    ``block=None`` compares a few queries (a request's messages) with every prototype in
    one product, and many (training, evaluation) in blocks of 4096 prototypes. Both sides
    must be L2-normalised (the encoders normalise).
    """
    n = len(queries)
    k = max(1, min(k, len(prototypes)))
    if n == 0 or len(prototypes) == 0:
        return np.zeros((n, 0)), np.zeros((n, 0), dtype=np.int64)
    q = queries.astype(np.float32, copy=False)
    if block is None:
        block = len(prototypes) if n * len(prototypes) <= _ONE_PASS_CELLS else 4096
    if block >= len(prototypes):
        # The per-request path: one product and no merging of block results (the merging
        # cost more than the product for one message against a few thousand examples).
        sims = q @ prototypes.astype(np.float32, copy=False).T
        if k == 1:
            best = np.argmax(sims, axis=1)[:, None]
            return np.take_along_axis(sims, best, axis=1).astype(np.float64), best
        return best_first(sims, k)
    best_s = np.zeros((n, 0), dtype=np.float32)
    best_i = np.zeros((n, 0), dtype=np.int64)
    for start in range(0, len(prototypes), block):
        part = prototypes[start : start + block].astype(np.float32, copy=False)
        sims = q @ part.T
        take = min(k, sims.shape[1])
        idx = np.argpartition(-sims, take - 1, axis=1)[:, :take]
        best_s = np.concatenate([best_s, np.take_along_axis(sims, idx, axis=1)], axis=1)
        best_i = np.concatenate([best_i, idx + start], axis=1)
        if best_s.shape[1] > k:
            keep = np.argpartition(-best_s, k - 1, axis=1)[:, :k]
            best_s = np.take_along_axis(best_s, keep, axis=1)
            best_i = np.take_along_axis(best_i, keep, axis=1)
    return _sorted_best_first(best_s, best_i)


def knn_similarity(sims: FloatArray, k: int) -> FloatArray:
    """Mean similarity to the ``k`` nearest examples (``sims`` sorted best first)."""
    if sims.shape[1] == 0:
        return np.full(len(sims), -1.0)
    return np.asarray(sims[:, : max(1, k)].mean(axis=1), dtype=np.float64)


def knn_vote(
    sims: FloatArray,
    idx: npt.NDArray[np.int64],
    prototype_labels: npt.NDArray[np.integer[Any]],
    n_labels: int,
    *,
    k: int,
    tau: float,
) -> FloatArray:
    """Log of the similarity-weighted vote share of each label among the ``k`` nearest.

    Weights are ``exp(similarity / tau)``; a small floor keeps labels without a vote
    finite, so the vote can be added to log-probabilities.
    """
    n = len(sims)
    out = np.zeros((n, n_labels))
    k = min(k, sims.shape[1])
    if k == 0:
        return np.log(np.full((n, n_labels), 1.0 / n_labels))
    weights = np.exp((sims[:, :k] - sims[:, :1]) / tau)
    labels = prototype_labels[idx[:, :k]]
    rows = np.repeat(np.arange(n), k)
    np.add.at(out, (rows, labels.ravel()), weights.ravel())
    out /= out.sum(axis=1, keepdims=True)
    return np.asarray(np.log(out + _VOTE_FLOOR), dtype=np.float64)


@dataclass(frozen=True)
class ClassGaussians:
    """Per-intent means with one shared precision matrix (tied covariance)."""

    means: npt.NDArray[np.float32]
    precision: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        d = self.means.shape[1]
        if self.precision.shape != (d, d):
            raise ArtifactError("precision matrix does not match the class means")

    @classmethod
    def fit(
        cls,
        embeddings: npt.NDArray[np.floating[Any]],
        labels: npt.NDArray[np.integer[Any]],
        *,
        shrinkage: float = 0.01,
    ) -> ClassGaussians:
        """Means per label (in sorted label order) and the shrunk inverse pooled covariance."""
        x = embeddings.astype(np.float64)
        classes = np.unique(labels)
        means = np.stack([x[labels == c].mean(axis=0) for c in classes])
        centred = x - means[np.searchsorted(classes, labels)]
        cov = centred.T @ centred / max(1, len(x) - len(classes))
        cov += shrinkage * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
        return cls(means=means.astype(np.float32), precision=np.linalg.inv(cov).astype(np.float32))

    def min_distance(self, queries: npt.NDArray[np.floating[Any]]) -> FloatArray:
        """Squared Mahalanobis distance of each query to its nearest class mean."""
        q = queries.astype(np.float64)
        p = self.precision.astype(np.float64)
        mu = self.means.astype(np.float64)
        qp = q @ p
        d = (qp * q).sum(axis=1)[:, None] - 2.0 * qp @ mu.T + ((mu @ p) * mu).sum(axis=1)[None, :]
        return np.asarray(d.min(axis=1), dtype=np.float64)


@dataclass(frozen=True)
class ScopeDetector:
    """Logistic fusion of the probability and distance scores into one in-scope score.

    ``score = sigmoid(coef . (features - mean) / scale + intercept)``; a message whose score
    is below ``threshold`` is out of scope. All numbers are fitted on held-out predictions.
    """

    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def __post_init__(self) -> None:
        n = len(DETECTOR_FEATURES)
        if not (len(self.coef) == len(self.mean) == len(self.scale) == n):
            raise ArtifactError(f"scope detector needs {n} coefficients, means and scales")
        if any(s <= 0 for s in self.scale):
            raise ArtifactError("scope detector scales must be positive")

    def score(self, features: FloatArray) -> FloatArray:
        """In-scope score in [0, 1] for rows of ``DETECTOR_FEATURES``."""
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return np.asarray(1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept))))

    def to_json(self) -> dict[str, Any]:
        """Stored in the artifact's manifest params (a handful of numbers)."""
        return {
            "features": list(DETECTOR_FEATURES),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "mean": list(self.mean),
            "scale": list(self.scale),
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ScopeDetector:
        """Read what :meth:`to_json` wrote; other feature lists are refused."""
        if list(raw.get("features", [])) != list(DETECTOR_FEATURES):
            raise ArtifactError(f"scope detector features must be {list(DETECTOR_FEATURES)}")
        return cls(
            coef=tuple(float(v) for v in raw["coef"]),
            intercept=float(raw["intercept"]),
            mean=tuple(float(v) for v in raw["mean"]),
            scale=tuple(float(v) for v in raw["scale"]),
            threshold=float(raw["threshold"]),
        )
