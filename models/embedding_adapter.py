"""A small trained head on the frozen sentence embedding: one hidden layer, applied in numpy.

The linear heads draw one hyperplane per intent through the frozen embedding space; where
intents are fine-grained (BANKING77's 77 card and transfer intents) one hyperplane is too
coarse and a non-linear head separates them better. It is trained with torch at training
time only (``training/adapter_training.py``); serving multiplies two small matrices, so
the ONNX backends stay free of torch. Its log-probabilities are added to the fused scores
with a weight chosen on held-out predictions, like the nearest-example vote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.errors import ArtifactError
from models.probabilities import log_softmax

FloatArray = npt.NDArray[np.float32]
#: The files of an adapter in an artifact folder, in the order of the fields they hold.
ADAPTER_FILES = ("adapter_w1.npy", "adapter_b1.npy", "adapter_w2.npy", "adapter_b2.npy")


@dataclass(frozen=True)
class EmbeddingAdapter:
    """``log_softmax(relu(x @ w1 + b1) @ w2 + b2)`` over the classifier's labels."""

    w1: FloatArray
    b1: FloatArray
    w2: FloatArray
    b2: FloatArray

    def __post_init__(self) -> None:
        d, h = self.w1.shape
        if self.b1.shape != (h,) or self.w2.shape[0] != h or self.b2.shape != (self.w2.shape[1],):
            raise ArtifactError("embedding adapter weights do not fit together")
        if d == 0 or h == 0:
            raise ArtifactError("embedding adapter has an empty layer")

    @property
    def dimension(self) -> int:
        """Embedding dimension it reads."""
        return int(self.w1.shape[0])

    @property
    def n_labels(self) -> int:
        """Labels it scores."""
        return int(self.w2.shape[1])

    def log_proba(self, embeddings: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
        """Log-probabilities, shape ``(n, n_labels)``; float32 matmuls (a few µs a row)."""
        hidden = np.maximum(embeddings.astype(np.float32, copy=False) @ self.w1 + self.b1, 0.0)
        return log_softmax((hidden @ self.w2 + self.b2).astype(np.float64))

    def save(self, folder: Path) -> None:
        """Write the four ``.npy`` files (the manifest hashes them with the rest)."""
        for name, value in zip(ADAPTER_FILES, (self.w1, self.b1, self.w2, self.b2), strict=True):
            np.save(folder / name, value.astype(np.float32))

    @classmethod
    def load(cls, folder: Path) -> EmbeddingAdapter:
        """Read what :meth:`save` wrote."""
        w1, b1, w2, b2 = (np.load(folder / name) for name in ADAPTER_FILES)
        return cls(w1=w1, b1=b1, w2=w2, b2=b2)
