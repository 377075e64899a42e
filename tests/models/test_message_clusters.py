"""Clustering message embeddings: zero rows (no direction) are noise, never an error."""

from __future__ import annotations

import numpy as np

from models.message_clusters import cluster_embeddings


def test_zero_rows_are_left_out_of_every_cluster() -> None:
    embeddings = np.array(
        [[1.0, 0.0], [0.99, 0.05], [0.0, 0.0], [0.98, 0.1], [0.0, 0.0]], dtype=np.float32
    )
    labels = cluster_embeddings(embeddings, distance_threshold=0.2, min_cluster_size=2)
    assert labels.tolist() == [0, 0, -1, 0, -1]


def test_only_zero_rows_give_no_cluster() -> None:
    labels = cluster_embeddings(np.zeros((4, 3)), distance_threshold=0.2, min_cluster_size=2)
    assert labels.tolist() == [-1, -1, -1, -1]
