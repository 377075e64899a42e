"""Grouping similar messages and naming the groups: shared by ``triage intents suggest``
(proposing intents for what no intent covers) and the service's emerging-issues insight.

Groups come from average-linkage agglomerative clustering of sentence embeddings on cosine
distance: a group forms when its messages are, on average, closer than
``distance_threshold`` to each other, and groups smaller than ``min_cluster_size`` count
as noise (HDBSCAN called almost everything noise on the few dozen messages a team
typically has). A group is named by its most distinctive terms (class-based TF-IDF: term
frequency in the group, weighted down for terms frequent across all messages) and shown
with the messages nearest its centre.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]

_WORDS = re.compile(r"\w+", re.UNICODE)


def duplicate_key(text: str) -> str:
    """Texts equal up to case, punctuation and spacing share a key."""
    return " ".join(_WORDS.findall(text.casefold()))


def unit_rows(x: FloatArray) -> npt.NDArray[np.float64]:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def cluster_embeddings(
    embeddings: FloatArray, *, distance_threshold: float, min_cluster_size: int
) -> npt.NDArray[np.int64]:
    """Cluster number per row, ``-1`` for rows in groups smaller than ``min_cluster_size``.

    Clusters are numbered by size, largest first.
    """
    from sklearn.cluster import AgglomerativeClustering

    n = len(embeddings)
    if n < max(2, min_cluster_size):
        return np.full(n, -1, dtype=np.int64)
    raw = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=distance_threshold,
    ).fit_predict(unit_rows(embeddings))
    sizes = np.bincount(raw)
    kept = sorted(
        (k for k in range(len(sizes)) if sizes[k] >= min_cluster_size),
        key=lambda k: (-sizes[k], k),
    )
    out = np.full(n, -1, dtype=np.int64)
    for new, k in enumerate(kept):
        out[raw == k] = new
    return out


def distinctive_terms(
    groups: Sequence[Sequence[str]], background: Sequence[str], *, top: int = 5
) -> list[tuple[str, ...]]:
    """The ``top`` terms of each group by class-based TF-IDF.

    Each group is one document; ``background`` (every other message) is one more, so
    words common everywhere ("please", the company name) rank low. A term must occur in
    at least two of a group's messages (or in its only one) so one long message cannot
    name the group.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if not groups:
        return []
    docs = [" ".join(g) for g in groups] + [" ".join(background)]
    vectorizer = CountVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b",
        lowercase=True,
    )
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # nothing but stop words
        return [() for _ in groups]
    vocabulary = vectorizer.get_feature_names_out()
    analyse = vectorizer.build_analyzer()
    words_per_doc = counts.sum(axis=1)
    average = float(words_per_doc.mean()) or 1.0
    idf = np.log1p(average / np.maximum(counts.sum(axis=0), 1.0))
    tf = counts / np.maximum(words_per_doc[:, None], 1.0)
    scores = tf * idf
    index = {term: i for i, term in enumerate(vocabulary)}
    out: list[tuple[str, ...]] = []
    for g, texts in enumerate(groups):
        support = np.zeros(len(vocabulary))
        for text in texts:
            for term in set(analyse(text)):
                if term in index:
                    support[index[term]] += 1
        need = min(2, len(texts))
        ranked = [int(i) for i in np.argsort(-scores[g]) if scores[g, i] > 0 and support[i] >= need]
        chosen: list[str] = []
        for i in ranked:
            term = str(vocabulary[i])
            # A bigram makes its own words redundant, and a word already inside a chosen
            # bigram adds nothing.
            if any(term in c.split() or c in term.split() for c in chosen):
                if " " in term:
                    chosen = [c for c in chosen if c not in term.split()]
                else:
                    continue
            chosen.append(term)
            if len(chosen) == top:
                break
        out.append(tuple(chosen))
    return out


def candidate_name(terms: Sequence[str], *, fallback: str) -> str:
    """An intent-style name from the top terms: at most three words, joined by ``_``."""
    words: list[str] = []
    for term in terms:
        for word in term.split():
            if word not in words:
                words.append(word)
        if len(words) >= 2:
            break
    return "_".join(words[:3]) or fallback


def representatives(
    embeddings: FloatArray, texts: Sequence[str], *, k: int
) -> tuple[list[int], npt.NDArray[np.float64], float]:
    """Indices of the ``k`` messages nearest the group's centre (distinct texts), the
    normalised centre, and the mean similarity to it."""
    unit = unit_rows(embeddings)
    centre = unit.mean(axis=0)
    centre = centre / (np.linalg.norm(centre) or 1.0)
    similarity = unit @ centre
    chosen: list[int] = []
    seen: set[str] = set()
    for i in np.argsort(-similarity):
        key = duplicate_key(texts[int(i)])
        if key in seen:
            continue
        seen.add(key)
        chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen, centre, float(similarity.mean())
