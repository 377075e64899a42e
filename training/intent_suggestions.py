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

from models.message_clusters import (
    FloatArray,
    candidate_name,
    cluster_embeddings,
    distinctive_terms,
    representatives,
    unit_rows,
)

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
    unit = unit_rows(np.asarray(embeddings)[rows])
    y = np.array([index[labels[i]] for i in rows])
    sums = np.stack([unit[y == k].sum(axis=0) for k in range(len(names))])
    n = np.bincount(y, minlength=len(names)).astype(np.float64)
    centres = unit_rows(sums / n[:, None])
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
        unit = unit_rows(embeddings)
        centres: dict[str, npt.NDArray[np.float64]] = {}
        for name in sorted({label for label in labels if label}):
            rows = [i for i, label in enumerate(labels) if label == name]
            centre = unit[rows].mean(axis=0)
            norm = math.sqrt(float(centre @ centre)) or 1.0
            centres[name] = centre / norm
        return centres
