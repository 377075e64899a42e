"""Hashed word and character n-gram TF-IDF features.

Hashing keeps the artifact free of any vocabulary (no training text is stored): the
only fitted state is one idf weight per hash bucket.

Two heads read the same focus text of every triaged message (the intent model's lexical
head and the emergency detector), each with its own idf weights over the same hashed
counts. Hashing is most of the cost (0.35 ms of 0.4 ms per chat line), so the triager hands
both a :class:`CountedTexts`, which keeps the counts of the first head's call for the
second (folded onto fewer buckets when the second hashes into fewer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

DEFAULT_BUCKETS = 2**18


class CountedTexts(tuple[str, ...]):
    """Texts that remember their hashed n-gram counts, so featurizers reading the same
    texts hash them once. Immutable like the tuple it is; the counts are kept per bucket
    count (the only setting they depend on) and never modified after they are made."""

    def __new__(cls, texts: Iterable[str]) -> CountedTexts:
        obj = super().__new__(cls, texts)
        obj.counts = {}
        return obj

    counts: dict[int, sp.csr_matrix]


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
        # Built once: ``HashingVectorizer.transform`` rebuilds both on every call.
        self._analyzers = (self._words.build_analyzer(), self._chars.build_analyzer())
        # The hasher each vectorizer builds per call (``HashingVectorizer._get_hasher``).
        hasher = FeatureHasher(
            n_features=half, input_type="string", dtype=np.float64, alternate_sign=False
        )
        self._hashers = (hasher, hasher)
        if idf is not None and idf.shape != (n_buckets,):
            raise ValueError(f"idf has shape {idf.shape}, expected ({n_buckets},)")
        self.idf = idf

    def _counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Word counts in the first half of the buckets, char n-gram counts in the second
        (``hstack([words, chars])``, built directly: canonical CSR, float32)."""
        if isinstance(texts, CountedTexts):
            known = texts.counts.get(self.n_buckets)
            if known is None:
                wider = [n for n in texts.counts if n > self.n_buckets]
                known = self._fold(texts.counts[min(wider)]) if wider else self._hash(texts)
                texts.counts[self.n_buckets] = known
            return known
        return self._hash(texts)

    def _fold(self, wide: sp.csr_matrix) -> sp.csr_matrix:
        """These counts from counts over more buckets (both powers of two): a feature's
        bucket is ``|hash| mod half``, so folding the wider halves onto ours by ``mod`` is
        the same as hashing again (the intent head hashes into 2**18 buckets, the emergency
        detector into 2**16)."""
        wide_half, half, n = wide.shape[1] // 2, self.n_buckets // 2, wide.shape[0]
        cols = wide.indices.astype(np.int64)
        cols = np.where(cols >= wide_half, half + (cols - wide_half) % half, cols % half)
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(wide.indptr))
        # Sum the counts that land in one bucket (numpy only: scipy's COO conversion
        # costs as much as hashing again for one message).
        keys = rows * self.n_buckets + cols
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        data = np.add.reduceat(wide.data[order], starts) if len(keys) else wide.data[:0]
        keys = keys[starts]
        indptr = np.zeros(n + 1, dtype=wide.indptr.dtype)
        np.cumsum(np.bincount(keys // self.n_buckets, minlength=n), out=indptr[1:])
        indices = (keys % self.n_buckets).astype(wide.indices.dtype)
        return sp.csr_matrix(
            (data.astype(np.float32, copy=False), indices, indptr), shape=(n, self.n_buckets)
        )

    def _hash(self, texts: Sequence[str]) -> sp.csr_matrix:
        if isinstance(texts, str):
            raise ValueError("an iterable of texts is expected, not one string")
        half = self.n_buckets // 2
        words, chars = (
            hasher.transform(analyze(text) for text in texts)
            for hasher, analyze in zip(self._hashers, self._analyzers, strict=True)
        )
        n = len(texts)
        rows = np.concatenate(
            [
                np.repeat(np.arange(n), np.diff(words.indptr)),
                np.repeat(np.arange(n), np.diff(chars.indptr)),
            ]
        )
        # A stable sort by row keeps each row's word columns (sorted, below ``half``)
        # before its char columns (sorted, shifted by ``half``): sorted indices, as hstack.
        order = np.argsort(rows, kind="stable")
        indices = np.concatenate([words.indices, chars.indices + half])[order]
        data = np.concatenate([words.data, chars.data]).astype(np.float32)[order]
        indptr = np.zeros(n + 1, dtype=indices.dtype)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return sp.csr_matrix((data, indices, indptr), shape=(n, self.n_buckets))

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
        # Copies of the index arrays: the counts may be shared with another featurizer
        # (``CountedTexts``), and scipy may sort a product operand's indices in place.
        return sp.csr_matrix(
            (data.astype(np.float32), counts.indices.copy(), counts.indptr.copy()),
            shape=counts.shape,
        )


class LexicalScorer:
    """A linear block over :class:`LexicalFeaturizer` features: ``scores(texts)`` is
    ``tfidf(texts) @ coef.T``, one column per output (a level, a situation).

    The urgency level head and the emergency detector each add one to their scores; the
    weights are transposed once here, because transposing per call was the slow part.
    """

    def __init__(self, idf: npt.NDArray[np.float32], coef: npt.NDArray[np.floating]) -> None:
        self.featurizer = LexicalFeaturizer(n_buckets=int(idf.shape[0]), idf=idf)
        self._coef_t = np.ascontiguousarray(coef.T.astype(np.float64))

    def scores(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Shape ``(len(texts), outputs)``."""
        return np.asarray(self.featurizer.transform(texts) @ self._coef_t, dtype=np.float64)
