"""Hashed word and character n-gram TF-IDF features.

Hashing keeps the artifact free of any vocabulary (no training text is stored): the
only fitted state is one idf weight per hash bucket.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

DEFAULT_BUCKETS = 2**18


class LexicalFeaturizer:
    """Sublinear TF-IDF over hashed word 1-2-grams and char 2-5-grams (within words)."""

    def __init__(
        self, *, n_buckets: int = DEFAULT_BUCKETS, idf: npt.NDArray[np.float32] | None = None
    ):
        if n_buckets < 1024 or n_buckets & (n_buckets - 1):
            raise ValueError("n_buckets must be a power of two >= 1024")
        self.n_buckets = n_buckets
        half = n_buckets // 2
        common = {"alternate_sign": False, "norm": None, "n_features": half, "lowercase": True}
        self._words = HashingVectorizer(ngram_range=(1, 2), **common)
        self._chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)
        if idf is not None and idf.shape != (n_buckets,):
            raise ValueError(f"idf has shape {idf.shape}, expected ({n_buckets},)")
        self.idf = idf

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        words = self._words.transform(texts)
        chars = self._chars.transform(texts)
        return sp.hstack([words, chars], format="csr", dtype=np.float32)

    def fit(self, texts: Sequence[str]) -> LexicalFeaturizer:
        """Learn idf weights (smoothed, as scikit-learn does) from ``texts``."""
        counts = self._counts(texts)
        df = np.bincount(counts.indices, minlength=self.n_buckets).astype(np.float64)
        n = counts.shape[0]
        self.idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Rows are L2-normalised sublinear-tf × idf vectors."""
        if self.idf is None:
            raise RuntimeError("LexicalFeaturizer.transform called before fit")
        counts = self._counts(texts)
        # Weighting and row norms on the CSR arrays directly: the same numbers as
        # ``normalize(counts.multiply(idf))``, without its per-call validation and copies
        # (half the lexical head's cost for one message).
        data = (1.0 + np.log(counts.data)).astype(np.float32) * self.idf[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        squares = np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=counts.shape[0])
        norms = np.sqrt(squares)
        data = data / np.where(norms > 0, norms, 1.0)[rows]
        return sp.csr_matrix(
            (data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape
        )
