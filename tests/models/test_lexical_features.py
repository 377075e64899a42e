"""The lexical featurizer's fast weighting gives the textbook numbers."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from models.lexical_features import CountedTexts, LexicalFeaturizer, sparse_product

TEXTS = ["Where is my order #4411829?", "refund refund refund pls", "", "Ünïcödé naïve café"]


def _hstack_counts(featurizer: LexicalFeaturizer, texts: list[str]) -> np.ndarray:
    """Word then char n-gram counts the textbook way (scikit-learn's vectorizers)."""
    return np.hstack(
        [featurizer._words.transform(texts).toarray(), featurizer._chars.transform(texts).toarray()]
    )


def test_counts_are_the_word_then_char_hashing_vectorizers() -> None:
    featurizer = LexicalFeaturizer(n_buckets=2**12)
    counts = featurizer._counts(TEXTS)
    assert counts.has_canonical_format and counts.dtype == np.float32
    np.testing.assert_array_equal(counts.toarray(), _hstack_counts(featurizer, TEXTS))


def test_counts_stay_the_vectorizers_on_odd_text_and_across_memo_resets() -> None:
    # Unicode white space and case, a dotted capital I (lower() makes two characters),
    # digits, a long word, repeats: the memoised hashing must give scikit-learn's buckets.
    odd = [
        "ORDER\u00a0#12\u2028refund\x1c\x1cnow\u3000İstanbul ǅemal ß ẞ",
        "a b c  a b c\tx" + " y" * 40,
        "Zz" * 300,
        "cafe\u0301 naïve 😀 order-12 order_12",
    ]
    featurizer = LexicalFeaturizer(n_buckets=2**12)
    featurizer._feature_buckets.limit = featurizer._word_char_buckets.limit = 8
    for texts in (odd, [*TEXTS, *odd], odd):  # the second pass meets known and reset memos
        counts = featurizer._counts(texts)
        assert counts.has_canonical_format and counts.dtype == np.float32
        np.testing.assert_array_equal(counts.toarray(), _hstack_counts(featurizer, texts))


def test_two_featurizers_share_the_counts_of_counted_texts() -> None:
    first = LexicalFeaturizer(n_buckets=2**12).fit([*TEXTS, "another order text"])
    second = LexicalFeaturizer(n_buckets=2**12).fit(["refund please", "order #1"])
    texts = CountedTexts(TEXTS)
    plain_first, plain_second = first.transform(list(TEXTS)), second.transform(list(TEXTS))
    shared_first = first.transform(texts)
    assert set(texts.counts) == {2**12}  # counted once, kept for the next reader
    shared_second = second.transform(texts)
    # Products with the results (which may sort their indices in place) leave the kept
    # counts intact for whoever reads them next.
    _ = shared_first @ np.ones((2**12, 2), dtype=np.float32)
    np.testing.assert_array_equal(shared_first.toarray(), plain_first.toarray())
    np.testing.assert_array_equal(shared_second.toarray(), plain_second.toarray())
    np.testing.assert_array_equal(texts.counts[2**12].toarray(), _hstack_counts(first, TEXTS))


def test_counts_folded_onto_fewer_buckets_equal_hashing_into_them() -> None:
    wide = LexicalFeaturizer(n_buckets=2**14).fit([*TEXTS, "another order text"])
    narrow = LexicalFeaturizer(n_buckets=2**10).fit(["refund please", "order #1"])
    texts = CountedTexts([*TEXTS, "aa aa aa bb", "Zz" * 200])
    wide.transform(texts)
    folded = narrow.transform(texts)  # from the wide counts, not hashed again
    assert set(texts.counts) == {2**14, 2**10}
    direct = narrow._hash(list(texts))
    kept = texts.counts[2**10]
    assert kept.has_canonical_format and kept.dtype == direct.dtype
    np.testing.assert_array_equal(kept.indices, direct.indices)
    np.testing.assert_array_equal(kept.indptr, direct.indptr)
    np.testing.assert_array_equal(kept.data, direct.data)
    np.testing.assert_array_equal(folded.toarray(), narrow.transform(list(texts)).toarray())


def test_transform_is_l2_normalised_sublinear_tf_idf() -> None:
    featurizer = LexicalFeaturizer(n_buckets=2**12).fit([*TEXTS, "another order text"])
    assert featurizer.idf is not None
    counts = featurizer._counts(TEXTS)
    counts.data = 1.0 + np.log(counts.data)
    expected = normalize(counts.multiply(featurizer.idf[np.newaxis, :]).tocsr(), norm="l2")
    actual = featurizer.transform(TEXTS)
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual.toarray(), expected.toarray(), rtol=1e-5, atol=1e-7)
    assert actual[2].nnz == 0  # an empty text stays an empty row, no division by zero


def test_sparse_product_is_scipys_product_to_the_bit() -> None:
    rng = np.random.default_rng(7)
    weights = sp.random(4096, 27, density=0.05, format="csr", dtype=np.float32, random_state=rng)
    featurizer = LexicalFeaturizer(n_buckets=4096).fit([*TEXTS, "another order text"])
    for texts in ([TEXTS[0]], TEXTS, [""], [*TEXTS, "Zz" * 200, "order order refund"]):
        features = featurizer.transform(texts)
        expected = (features @ weights).toarray()
        actual = sparse_product(features, weights)
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected)
