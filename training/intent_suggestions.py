"""Help choosing intents: group what no intent covers, and flag intents that overlap.

Candidates come from clustering the sentence embeddings (the service's encoder) of the
uncovered messages with average-linkage agglomerative clustering on cosine distance: a
group forms when its messages are, on average, closer than ``distance_threshold`` to each
other, and groups smaller than ``min_cluster_size`` count as noise. (HDBSCAN was tried
too; on the few dozen uncovered messages a team typically has, it called almost
everything noise.) Each group is named by its most distinctive terms (class-based
TF-IDF: term frequency in the group, weighted down for terms frequent across all
messages) and shown with the messages nearest its centre.

Two intents overlap when their examples cannot be told apart: leave-one-out
nearest-centroid classification of each labelled example sends many of one intent's
examples to the other (``confusion``), or the two centroids are nearly the same
direction (``centroid_similarity``). Either above its threshold gives a warning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from training.ticket_import import duplicate_key

FloatArray = npt.NDArray[np.floating[Any]]

#: Measured on our Northwave exports (12 intents): distinct intents reach at most 0.074
#: confusion and 0.72 centroid similarity; an intent split at random into two reaches
#: 0.69 and 0.89.
DEFAULT_OVERLAP_CONFUSION = 0.2
DEFAULT_OVERLAP_SIMILARITY = 0.85


@dataclass(frozen=True)
class IntentCandidate:
    """A group of uncovered messages that could become an intent."""

    name: str
    terms: tuple[str, ...]
    size: int
    #: Mean cosine similarity of the members to their centre (1.0: all the same).
    cohesion: float
    examples: tuple[str, ...]
    #: Row numbers (0-based, input order) of every member.
    members: tuple[int, ...]
    closest_intent: str | None = None
    closest_similarity: float | None = None


@dataclass(frozen=True)
class IntentOverlap:
    """Two intents whose examples are hard to tell apart."""

    first: str
    second: str
    #: Share of both intents' examples nearer the other intent's centre (leave-one-out).
    confusion: float
    centroid_similarity: float
    #: An example of each intent that went to the other one, when there is one.
    examples: tuple[str, ...]


@dataclass(frozen=True)
class SuggestionReport:
    """Candidates for new intents and warnings about overlapping ones."""

    rows: int
    uncovered: int
    candidates: tuple[IntentCandidate, ...]
    overlaps: tuple[IntentOverlap, ...]

    @property
    def clustered(self) -> int:
        """Uncovered messages that fell into some candidate."""
        return sum(c.size for c in self.candidates)

    def to_json(self) -> dict[str, Any]:
        """Everything as JSON-ready data."""
        return {
            "rows": self.rows,
            "uncovered": self.uncovered,
            "clustered": self.clustered,
            "candidates": [asdict(c) for c in self.candidates],
            "overlaps": [asdict(o) for o in self.overlaps],
        }


def _normalise(x: FloatArray) -> npt.NDArray[np.float64]:
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
    ).fit_predict(_normalise(embeddings))
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
    unit = _normalise(embeddings)
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


def find_overlaps(
    embeddings: FloatArray,
    labels: Sequence[str],
    texts: Sequence[str],
    *,
    confusion_threshold: float = DEFAULT_OVERLAP_CONFUSION,
    similarity_threshold: float = DEFAULT_OVERLAP_SIMILARITY,
    min_examples: int = 3,
) -> list[IntentOverlap]:
    """Pairs of intents whose examples overlap (see module docstring), worst first.

    Intents with fewer than ``min_examples`` examples are left out: their centres say
    too little.
    """
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    names = sorted(label for label, n in counts.items() if n >= min_examples)
    if len(names) < 2:
        return []
    index = {name: i for i, name in enumerate(names)}
    rows = [i for i, label in enumerate(labels) if label in index]
    unit = _normalise(np.asarray(embeddings)[rows])
    y = np.array([index[labels[i]] for i in rows])
    sums = np.stack([unit[y == k].sum(axis=0) for k in range(len(names))])
    n = np.bincount(y, minlength=len(names)).astype(np.float64)
    centres = _normalise(sums / n[:, None])
    confused = np.zeros((len(names), len(names)))
    example: dict[tuple[int, int], str] = {}
    for j, (vector, own) in enumerate(zip(unit, y, strict=True)):
        candidates = centres.copy()
        loo = sums[own] - vector  # the example's own intent without it
        candidates[own] = loo / (np.linalg.norm(loo) or 1.0)
        predicted = int(np.argmax(candidates @ vector))
        if predicted != own:
            confused[own, predicted] += 1
            example.setdefault((int(own), predicted), texts[rows[j]])
    similarity = centres @ centres.T
    found = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            confusion = (confused[a, b] + confused[b, a]) / (n[a] + n[b])
            if confusion >= confusion_threshold or similarity[a, b] >= similarity_threshold:
                found.append(
                    IntentOverlap(
                        first=names[a],
                        second=names[b],
                        confusion=round(float(confusion), 3),
                        centroid_similarity=round(float(similarity[a, b]), 3),
                        examples=tuple(
                            example[pair] for pair in ((a, b), (b, a)) if pair in example
                        ),
                    )
                )
    return sorted(found, key=lambda o: (-o.confusion, -o.centroid_similarity))


class IntentSuggester:
    """Proposes intents for uncovered messages and checks labelled ones for overlap.

    Args:
        min_cluster_size: smallest group worth proposing.
        distance_threshold: average cosine distance below which messages group together.
        n_terms: distinctive terms shown per candidate.
        n_examples: representative messages shown per candidate.
        overlap_confusion: see :func:`find_overlaps`.
        overlap_similarity: see :func:`find_overlaps`.
    """

    def __init__(
        self,
        *,
        min_cluster_size: int = 5,
        distance_threshold: float = 0.7,
        n_terms: int = 5,
        n_examples: int = 5,
        overlap_confusion: float = DEFAULT_OVERLAP_CONFUSION,
        overlap_similarity: float = DEFAULT_OVERLAP_SIMILARITY,
    ) -> None:
        if min_cluster_size < 2:
            raise ValueError("min_cluster_size must be at least 2")
        if not 0.0 < distance_threshold < 2.0:
            raise ValueError("distance_threshold must lie between 0 and 2 (cosine distance)")
        self.min_cluster_size = min_cluster_size
        self.distance_threshold = distance_threshold
        self.n_terms = n_terms
        self.n_examples = n_examples
        self.overlap_confusion = overlap_confusion
        self.overlap_similarity = overlap_similarity

    def suggest(
        self,
        texts: Sequence[str],
        embeddings: FloatArray,
        *,
        uncovered: Sequence[bool],
        labels: Sequence[str] | None = None,
    ) -> SuggestionReport:
        """Candidates among the ``uncovered`` rows; overlaps among the labelled ones.

        Args:
            texts: every message (as the classifier reads it).
            embeddings: their sentence embeddings, same order.
            uncovered: per row, whether no intent covers it.
            labels: per row, its intent (``""`` for none); enables the overlap check and
                the closest existing intent of each candidate.
        """
        if not (len(texts) == len(embeddings) == len(uncovered)):
            raise ValueError("texts, embeddings and uncovered differ in length")
        emb = np.asarray(embeddings)
        pool = [i for i, flag in enumerate(uncovered) if flag]
        clusters = cluster_embeddings(
            emb[pool] if pool else emb[:0],
            distance_threshold=self.distance_threshold,
            min_cluster_size=self.min_cluster_size,
        )
        members = [
            [pool[j] for j in np.flatnonzero(clusters == k)]
            for k in range(int(clusters.max(initial=-1)) + 1)
        ]
        in_cluster = {i for group in members for i in group}
        background = [texts[i] for i in range(len(texts)) if i not in in_cluster]
        terms = distinctive_terms(
            [[texts[i] for i in group] for group in members], background, top=self.n_terms
        )
        centres_by_label = self._label_centres(emb, labels)
        candidates = []
        for k, group in enumerate(members):
            chosen, centre, cohesion = representatives(
                emb[group], [texts[i] for i in group], k=self.n_examples
            )
            closest: tuple[str, float] | None = None
            if centres_by_label:
                closest = max(
                    ((name, float(c @ centre)) for name, c in centres_by_label.items()),
                    key=lambda item: item[1],
                )
            candidates.append(
                IntentCandidate(
                    name=candidate_name(terms[k], fallback=f"candidate_{k + 1}"),
                    terms=terms[k],
                    size=len(group),
                    cohesion=round(cohesion, 3),
                    examples=tuple(texts[group[i]] for i in chosen),
                    members=tuple(group),
                    closest_intent=closest[0] if closest else None,
                    closest_similarity=round(closest[1], 3) if closest else None,
                )
            )
        overlaps: list[IntentOverlap] = []
        if labels is not None:
            labelled = [i for i, label in enumerate(labels) if label]
            overlaps = find_overlaps(
                emb[labelled],
                [labels[i] for i in labelled],
                [texts[i] for i in labelled],
                confusion_threshold=self.overlap_confusion,
                similarity_threshold=self.overlap_similarity,
            )
        return SuggestionReport(
            rows=len(texts),
            uncovered=len(pool),
            candidates=tuple(candidates),
            overlaps=tuple(overlaps),
        )

    @staticmethod
    def _label_centres(
        embeddings: FloatArray, labels: Sequence[str] | None
    ) -> dict[str, npt.NDArray[np.float64]]:
        if labels is None:
            return {}
        unit = _normalise(embeddings)
        centres: dict[str, npt.NDArray[np.float64]] = {}
        for name in sorted({label for label in labels if label}):
            rows = [i for i, label in enumerate(labels) if label == name]
            centre = unit[rows].mean(axis=0)
            norm = math.sqrt(float(centre @ centre)) or 1.0
            centres[name] = centre / norm
        return centres
