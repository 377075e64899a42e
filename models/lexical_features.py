"""Hashed word and character n-gram TF-IDF features.

Hashing keeps the artifact free of any vocabulary (no training text is stored): the
only fitted state is one idf weight per hash bucket.

Two heads read the same focus text of every triaged message (the intent model's lexical
head and the emergency detector), each with its own idf weights over the same hashed
counts. Hashing was most of the cost (0.35 ms of 0.4 ms per chat line), so the triager hands
both a :class:`CountedTexts`, which keeps the counts of the first head's call for the
second (folded onto fewer buckets when the second hashes into fewer), and the hashing
itself skips scikit-learn's per-call wrappers and remembers the buckets of words it has
seen (0.18 ms to 0.06 ms per bench-mix message, the same buckets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction._hashing_fast import transform as _hashing_transform
from sklearn.feature_extraction.text import HashingVectorizer

DEFAULT_BUCKETS = 2**18
#: Most entries a featurizer's bucket memo keeps; past it the memo starts over, so text
#: with endless new words cannot grow memory (about 10 MB at most per memo).
MEMO_LIMIT = 2**15


class _BucketMemo:
    """Remembered buckets of strings (features or words). Thread-safe: readers use what
    they find and hash what they do not; a reset only costs hashing again."""

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        self.limit = limit
        self._known: dict[str, Any] = {}

    def _lookup(self, keys: Sequence[str], make: Callable[[list[str]], Sequence[Any]]) -> list[Any]:
        known = self._known
        found = [known.get(k) for k in keys]
        missing = list(dict.fromkeys(k for k, v in zip(keys, found, strict=True) if v is None))
        if missing:
            fresh = dict(zip(missing, make(missing), strict=True))
            found = [fresh[k] if v is None else v for k, v in zip(keys, found, strict=True)]
            if len(known) + len(fresh) > self.limit:
                known = self._known = {}
            if len(fresh) <= self.limit:
                known.update(fresh)
        return found

    def ints(
        self, keys: Sequence[str], make: Callable[[list[str]], npt.NDArray[np.int64]]
    ) -> npt.NDArray[np.int64]:
        """The bucket of each key (``make`` gives those of new keys)."""
        values = self._lookup(keys, lambda new: make(new).tolist())
        return np.fromiter(values, np.int64, len(values))

    def parts(self, keys: Sequence[str], make: Callable[[list[str]], list[bytes]]) -> list[bytes]:
        """The bytes kept for each key (``make`` gives those of new keys)."""
        return self._lookup(keys, make)


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
        # scikit-learn's vectorizers define the features (the models were trained on their
        # buckets); ``_hash`` applies their tokenizer and n-gram makers itself.
        self._words = HashingVectorizer(ngram_range=(1, 2), **common)
        self._chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)
        self._tokenize = self._words.build_tokenizer()
        self._feature_buckets = _BucketMemo()
        self._word_char_buckets = _BucketMemo()
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
        """The counts ``HashingVectorizer.transform`` gives for both halves, without its
        per-call analyzer building, validation and intermediate matrices (most of the cost
        for one message): the text is lower-cased once, and the buckets of known word
        n-grams and of known words' char n-grams (which depend on the word alone: they
        stay within it) come from a memo, so only new ones are hashed."""
        if isinstance(texts, str):
            raise ValueError("an iterable of texts is expected, not one string")
        half = self.n_buckets // 2
        lowered = [text.lower() for text in texts]
        features = [self._words._word_ngrams(self._tokenize(text)) for text in lowered]
        # What ``_char_wb_ngrams`` splits the text into; it pads and slices each word alone.
        words = [text.split() for text in lowered]
        word_cols = self._feature_buckets.ints(
            [f for row in features for f in row], self._bucket_array
        )
        char_parts = self._word_char_buckets.parts(
            [w for row in words for w in row], self._char_buckets
        )
        n = len(texts)
        char_sizes = np.fromiter((len(part) for part in char_parts), np.int64, len(char_parts))
        word_rows = np.repeat(np.arange(n), [len(row) for row in features])
        char_rows = np.repeat(np.repeat(np.arange(n), [len(row) for row in words]), char_sizes // 4)
        char_cols = np.frombuffer(b"".join(char_parts), dtype=np.int32)
        # One key per (row, bucket); its count is the feature's count, as summing the
        # hasher's duplicates gives (sorted by row, then word buckets before char ones).
        keys = np.concatenate(
            [
                word_rows * self.n_buckets + word_cols,
                char_rows * self.n_buckets + (char_cols.astype(np.int64) + half),
            ]
        )
        keys, counts = np.unique(keys, return_counts=True)
        indptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(keys // self.n_buckets, minlength=n), out=indptr[1:])
        indices = (keys % self.n_buckets).astype(np.int32)
        return sp.csr_matrix(
            (counts.astype(np.float32), indices, indptr), shape=(n, self.n_buckets)
        )

    def _bucket_array(self, features: Sequence[str]) -> npt.NDArray[np.int64]:
        """Each feature's bucket in one half, as ``FeatureHasher`` computes it (the same
        compiled loop: murmurhash3 of the UTF-8 bytes, seed 0, ``|h| mod half``)."""
        indices, _, _ = _hashing_transform(
            [((f, 1) for f in features)], self.n_buckets // 2, np.float64, False, seed=0
        )
        return np.asarray(indices, dtype=np.int64)

    def _char_buckets(self, words: Sequence[str]) -> list[bytes]:
        """Per word, the int32 buckets of its char n-grams, as bytes (compact to keep)."""
        grams = [self._chars._char_wb_ngrams(w) for w in words]
        buckets = self._bucket_array([g for row in grams for g in row]).astype(np.int32)
        ends = np.cumsum([len(row) for row in grams])
        return [part.tobytes() for part in np.split(buckets, ends[:-1])] if words else []

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


def sparse_product(features: sp.csr_matrix, weights: sp.csr_matrix) -> npt.NDArray[Any]:
    """``(features @ weights).toarray()`` for CSR operands: the same sums, added in the
    same order (each output in ``features``' column order, in their common dtype), in one
    pass over ``weights``' rows instead of scipy's two plus two intermediate matrices. The
    intent head's weights (262,144 x 27) are cache-cold after the encoder: 0.14 ms instead
    of 0.17 ms per message."""
    starts = weights.indptr[features.indices]
    lengths = weights.indptr[features.indices + 1] - starts
    # Positions of the weights' entries for every stored feature, in order.
    at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    rows = np.repeat(np.repeat(np.arange(features.shape[0]), np.diff(features.indptr)), lengths)
    width = weights.shape[1]
    out = np.zeros(features.shape[0] * width, dtype=np.result_type(features.dtype, weights.dtype))
    # ``add.at`` adds unbuffered, in index order: scipy's running sum per output.
    np.add.at(
        out,
        rows * width + weights.indices[at],
        np.repeat(features.data, lengths) * weights.data[at],
    )
    return out.reshape(features.shape[0], width)


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
