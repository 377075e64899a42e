"""The lexical featurizer's fast weighting gives the textbook numbers."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import normalize

from models.lexical_features import LexicalFeaturizer

TEXTS = ["Where is my order #4411829?", "refund refund refund pls", "", "Ünïcödé naïve café"]


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
