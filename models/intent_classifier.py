"""Intent classifier: sentence embeddings plus lexical n-grams, fused and calibrated.

Two linear heads score every intent: logistic regression on the frozen sentence
embedding, and a linear model on hashed n-gram TF-IDF. Their scores are fused with a
weight and divided by a temperature, both fitted on held-out predictions, so the
resulting probabilities are calibrated. Optionally the nearest training examples vote as a
third head (``vote_weight``), where that lifts held-out accuracy.

A message is out of scope when the ``out_of_scope`` class wins, or, with a scope detector,
when the detector's fusion of the calibrated probability with two distance scores (nearest
training examples, Mahalanobis distance to the nearest intent) falls below its threshold;
older artifacts without a detector use separate probability and similarity thresholds.

An embedding adapter (a one-hidden-layer head, ``models/embedding_adapter.py``) may add its
log-probabilities too (``adapter_weight``), where a non-linear boundary lifts held-out
accuracy (fine-grained intents).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from models.artifact_manifest import (
    ArtifactManifest,
    EncoderInfo,
    check_encoder,
    read_manifest,
    write_artifact,
)
from models.embedding_adapter import ADAPTER_FILES, EmbeddingAdapter
from models.embedding_distances import (
    ClassGaussians,
    ScopeDetector,
    knn_similarity,
    knn_vote,
    nearest_neighbours,
)
from models.errors import ArtifactError, InvalidInputError
from models.lexical_features import CountedTexts, LexicalFeaturizer, sparse_product
from models.probabilities import log_softmax, softmax
from models.protocols import Encoder
from models.spelling_corrector import SpellingCorrector
from models.tuned_encoder_head import TunedEncoderHead

logger = logging.getLogger(__name__)

ARTIFACT_TYPE = "intent-classifier"
#: The training words and their counts (``IntentHeads.vocabulary``).
VOCABULARY_FILE = "vocabulary.json"
DEFAULT_OOS_LABEL = "out_of_scope"

FloatArray = npt.NDArray[np.float32]
#: How far above the similarity threshold a cosine must be to settle the test without the
#: other examples (float32 rounding moves it by less than 3e-5).
_SETTLED_MARGIN = 1e-3


@dataclass(frozen=True)
class LabelScore:
    """One candidate intent and its calibrated probability."""

    label: str
    confidence: float


@dataclass(frozen=True)
class IntentPrediction:
    """The intent decision for one message."""

    label: str
    confidence: float
    category: str | None
    alternatives: tuple[LabelScore, ...]
    out_of_scope: bool
    ambiguous: bool
    #: Calibrated probability summed per intent category, plus the out-of-scope class
    #: under its label. Categories are a fixed set, so other models (urgency) can read
    #: these across intent-model retrains. ``None`` when the producer did not fill it.
    category_probabilities: Mapping[str, float] | None = None


@dataclass(frozen=True)
class IntentHeads:
    """The fitted numbers of an intent classifier, independent of any file format."""

    labels: tuple[str, ...]
    emb_coef: FloatArray
    emb_intercept: FloatArray
    lex_coef: sp.csr_matrix | None
    lex_intercept: FloatArray | None
    lex_idf: FloatArray | None
    fusion_weight: float
    temperature: float
    oos_threshold: float
    ambiguity_margin: float
    oos_label: str = DEFAULT_OOS_LABEL
    prototypes: FloatArray | None = None
    similarity_threshold: float = 0.0
    #: "intent": the probability threshold applies to the best intent; "category": to the
    #: probability mass of the best intent's category, so a message that is clearly about
    #: refunds but torn between two refund intents is ambiguous, not out of scope.
    threshold_scope: str = "intent"
    #: Intent index of every prototype (needed by the vote).
    prototype_labels: npt.NDArray[np.int32] | None = None
    #: Neighbours averaged for the detector's similarity score.
    knn_k: int = 1
    #: Weight of the nearest-example vote added to the fused log-scores (0: no vote).
    vote_weight: float = 0.0
    vote_k: int = 10
    vote_tau: float = 0.05
    gaussians: ClassGaussians | None = None
    detector: ScopeDetector | None = None
    #: One-hidden-layer head whose log-probabilities are added with ``adapter_weight``.
    adapter: EmbeddingAdapter | None = None
    adapter_weight: float = 0.0
    #: A fine-tuned copy of the encoder with its own head, added with ``tuned_weight``.
    tuned: TunedEncoderHead | None = None
    tuned_weight: float = 0.0
    #: Words of the training texts and their counts: the model reads a message with its
    #: typos corrected towards these (``models/spelling_corrector.py``); ``None``: as typed.
    vocabulary: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.emb_coef.shape[0] != n or self.emb_intercept.shape != (n,):
            raise ArtifactError("embedding head does not match the label set")
        if self.lex_coef is not None and self.lex_coef.shape[0] != n:
            raise ArtifactError("lexical head does not match the label set")
        if self.temperature <= 0:
            raise ArtifactError("temperature must be positive")
        if self.prototypes is not None and self.prototypes.shape[1] != self.emb_coef.shape[1]:
            raise ArtifactError("prototype vectors do not match the embedding head")
        if self.threshold_scope not in {"intent", "category"}:
            raise ArtifactError(f"unknown threshold_scope {self.threshold_scope!r}")
        if self.vote_weight > 0 and (self.prototypes is None or self.prototype_labels is None):
            raise ArtifactError("the nearest-example vote needs prototypes and their labels")
        if self.prototype_labels is not None and (
            self.prototypes is None or len(self.prototype_labels) != len(self.prototypes)
        ):
            raise ArtifactError("one label per prototype is needed")
        if self.detector is not None and (self.prototypes is None or self.gaussians is None):
            raise ArtifactError("the scope detector needs prototypes and class Gaussians")
        if self.gaussians is not None and self.gaussians.means.shape[1] != self.emb_coef.shape[1]:
            raise ArtifactError("class Gaussians do not match the embedding head")
        if self.knn_k < 1 or self.vote_k < 1 or self.vote_tau <= 0:
            raise ArtifactError("knn_k and vote_k must be positive, vote_tau above 0")
        if self.adapter_weight > 0 and self.adapter is None:
            raise ArtifactError("an adapter weight needs the embedding adapter")
        if self.adapter is not None and (
            self.adapter.dimension != self.emb_coef.shape[1] or self.adapter.n_labels != n
        ):
            raise ArtifactError("embedding adapter does not match the embedding head or labels")
        if self.tuned_weight > 0 and self.tuned is None:
            raise ArtifactError("a tuned-encoder weight needs the tuned encoder")
        if self.tuned is not None and self.tuned.n_labels != n:
            raise ArtifactError("tuned encoder head does not match the label set")

    @property
    def neighbours_needed(self) -> int:
        """How many nearest prototypes inference looks up (0: none)."""
        if self.prototypes is None:
            return 0
        return max(self.knn_k, self.vote_k if self.vote_weight > 0 else 1)


def max_similarity(
    queries: npt.NDArray[np.floating[Any]],
    prototypes: npt.NDArray[np.floating[Any]],
    *,
    block: int = 4096,
) -> npt.NDArray[np.float64]:
    """Cosine similarity of each (normalised) query to its nearest prototype, blockwise."""
    out = np.full(len(queries), -1.0)
    if len(prototypes) == 0 or len(queries) == 0:
        return out
    q = queries.astype(np.float32, copy=False)
    for start in range(0, len(prototypes), block):
        part = prototypes[start : start + block].astype(np.float32, copy=False)
        out = np.maximum(out, (q @ part.T).max(axis=1))
    return out


def scope_probability(
    proba: npt.NDArray[np.float64],
    in_scope: npt.NDArray[np.int64],
    groups: Sequence[npt.NDArray[np.int64]],
) -> npt.NDArray[np.float64]:
    """Per row, the probability the threshold reads: the best in-scope intent's, summed
    over its group (its category when ``threshold_scope`` is ``category``)."""
    best = in_scope[proba[:, in_scope].argmax(axis=1)]
    return np.array([proba[r, groups[b]].sum() for r, b in enumerate(best)], dtype=np.float64)


def scope_features(
    proba: npt.NDArray[np.float64],
    in_scope: npt.NDArray[np.int64],
    groups: Sequence[npt.NDArray[np.int64]],
    *,
    similarities: npt.NDArray[np.float64],
    knn_k: int,
    min_distance: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The scope detector's three inputs per row: the probability the threshold reads, the
    mean similarity to the ``knn_k`` nearest in-scope examples and minus the Mahalanobis
    distance to the nearest intent. One definition for serving, training and the benches,
    so the detector is always fitted on what it is later given."""
    return np.column_stack(
        [
            scope_probability(proba, in_scope, groups),
            knn_similarity(similarities, knn_k),
            -min_distance,
        ]
    )


def threshold_groups(
    labels: Sequence[str], categories: Mapping[str, str], *, scope: str
) -> list[npt.NDArray[np.int64]]:
    """For each label, the label indices whose probabilities count towards its threshold."""
    if scope != "category":
        return [np.array([i], dtype=np.int64) for i in range(len(labels))]
    members: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(categories.get(label) or f"label:{label}", []).append(i)
    return [
        np.array(members[categories.get(label) or f"label:{label}"], dtype=np.int64)
        for label in labels
    ]


class IntentClassifier:
    """Calibrated intent classifier with out-of-scope rejection and an ambiguity flag."""

    def __init__(
        self,
        heads: IntentHeads,
        *,
        encoder: Encoder,
        categories: Mapping[str, str] | None = None,
        name: str = "intent",
        version: str = "0",
        manifest: ArtifactManifest | None = None,
    ) -> None:
        if heads.emb_coef.shape[1] != encoder.dimension:
            raise ArtifactError(
                f"embedding head expects {heads.emb_coef.shape[1]}-d vectors, encoder gives "
                f"{encoder.dimension}-d"
            )
        self.heads = heads
        self.encoder = encoder
        self.categories = dict(categories or {})
        self.name = name
        self._version = version
        self.manifest = manifest
        # Stored as float16 to keep the artifact small; converted once, not per request.
        self._prototypes = (
            heads.prototypes.astype(np.float32) if heads.prototypes is not None else None
        )
        self._lexical = (
            LexicalFeaturizer(n_buckets=heads.lex_idf.shape[0], idf=heads.lex_idf)
            if heads.lex_idf is not None
            else None
        )
        # Transposed once: ``features @ coef.T`` would convert the whole head per request.
        self._lex_coef_t = heads.lex_coef.T.tocsr() if heads.lex_coef is not None else None
        labels = list(heads.labels)
        self._oos_index = labels.index(heads.oos_label) if heads.oos_label in labels else None
        self._in_scope = np.array(
            [i for i in range(len(labels)) if i != self._oos_index], dtype=np.int64
        )
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            key = heads.oos_label if i == self._oos_index else self.categories.get(label)
            if key:
                groups.setdefault(key, []).append(i)
        self._category_groups = {k: np.array(v, dtype=np.int64) for k, v in groups.items()}
        self._threshold_groups = threshold_groups(
            labels, self.categories, scope=heads.threshold_scope
        )
        # The prototypes grouped by intent, made on first use (``_examples``).
        self._examples_of: list[npt.NDArray[np.int64]] | None = None
        self._speller = SpellingCorrector(heads.vocabulary) if heads.vocabulary else None

    def reading(self, text: str) -> str:
        """The text as this model reads it: typos corrected towards its training words
        when the artifact stores them, else ``text`` itself."""
        return self._speller.correct(text) if self._speller is not None else text

    def read(self, texts: Iterable[str]) -> CountedTexts:
        """``texts`` as this model reads them (``reading``), ready to share their hashed
        n-gram counts with other featurizers."""
        return CountedTexts(self.reading(text) for text in texts)

    # -- identity -----------------------------------------------------------------
    @property
    def languages(self) -> tuple[str, ...] | None:
        """The languages the model's examples were written in, as its manifest records
        them (a model built from an intents spec); ``None`` when it does not say."""
        if self.manifest is None:
            return None
        declared = self.manifest.params.get("languages")
        codes = declared.get("supported") if isinstance(declared, dict) else None
        if not codes:
            return None
        return tuple(str(c).lower() for c in codes)

    @property
    def version(self) -> str:
        """``name@version`` as written in the manifest."""
        return f"{self.name}@{self._version}"

    @property
    def labels(self) -> tuple[str, ...]:
        """Every class, ``out_of_scope`` included when it was trained."""
        return self.heads.labels

    @property
    def intents(self) -> tuple[str, ...]:
        """The in-scope intents only."""
        return tuple(self.heads.labels[i] for i in self._in_scope)

    @property
    def oos_label(self) -> str:
        """Label returned for rejected messages."""
        return self.heads.oos_label

    def category_probabilities(self, proba: npt.NDArray[np.float64]) -> list[dict[str, float]]:
        """Per row, the probability summed per category (and the out-of-scope class)."""
        return [
            {key: round(float(row[idx].sum()), 4) for key, idx in self._category_groups.items()}
            for row in proba
        ]

    # -- inference ----------------------------------------------------------------
    def neighbours(
        self, embeddings: FloatArray
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None:
        """Similarities and indices of the nearest training examples (None without them)."""
        if self._prototypes is None or self.heads.neighbours_needed == 0:
            return None
        return nearest_neighbours(embeddings, self._prototypes, self.heads.neighbours_needed)

    def fused_logits(
        self,
        embeddings: FloatArray,
        texts: Sequence[str],
        *,
        neighbours: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Uncalibrated fused scores, shape ``(n, n_labels)``."""
        h = self.heads
        z = log_softmax(
            embeddings.astype(np.float64) @ h.emb_coef.T.astype(np.float64) + h.emb_intercept
        )
        if (
            self._lexical is not None
            and self._lex_coef_t is not None
            and h.lex_intercept is not None
        ):
            feats = self._lexical.transform(texts)
            lex = sparse_product(feats, self._lex_coef_t).astype(np.float64) + h.lex_intercept
            z = z + h.fusion_weight * lex
        if h.vote_weight > 0 and h.prototype_labels is not None:
            found = neighbours if neighbours is not None else self.neighbours(embeddings)
            if found is not None:
                sims, idx = found
                z = z + h.vote_weight * knn_vote(
                    sims, idx, h.prototype_labels, len(h.labels), k=h.vote_k, tau=h.vote_tau
                )
        if h.adapter is not None and h.adapter_weight > 0:
            z = z + h.adapter_weight * h.adapter.log_proba(embeddings)
        if h.tuned is not None and h.tuned_weight > 0:
            z = z + h.tuned_weight * h.tuned.log_proba(texts)
        return z

    def predict_proba_embedded(
        self,
        embeddings: FloatArray,
        texts: Sequence[str],
        *,
        neighbours: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Calibrated probabilities from precomputed embeddings."""
        logits = self.fused_logits(embeddings, texts, neighbours=neighbours)
        return softmax(logits / self.heads.temperature)

    def scope_scores(
        self,
        embeddings: FloatArray,
        proba: npt.NDArray[np.float64],
        neighbours: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None,
    ) -> npt.NDArray[np.float64] | None:
        """The scope detector's in-scope score per row (None without a detector)."""
        h = self.heads
        if h.detector is None or h.gaussians is None or neighbours is None:
            return None
        features = scope_features(
            proba,
            self._in_scope,
            self._threshold_groups,
            similarities=neighbours[0],
            knn_k=h.knn_k,
            min_distance=h.gaussians.min_distance(embeddings),
        )
        return h.detector.score(features)

    def similarity(self, embeddings: FloatArray) -> npt.NDArray[np.float64] | None:
        """Nearest-neighbour similarity to in-scope training examples (None without them)."""
        if self._prototypes is None:
            return None
        return max_similarity(embeddings, self._prototypes)

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities over ``labels`` for each text (as the model reads it)."""
        read = self.read(texts)
        return self.predict_proba_embedded(self.encoder.encode(read), read)

    def _examples(self, prototypes: FloatArray) -> list[npt.NDArray[np.int64]]:
        """Each intent's rows among the prototypes: their own labels, else the embedding
        head's reading of them (any grouping keeps the decisions; a good one settles more
        messages). Made once, on first use: a large training set's classifier need not."""
        if self._examples_of is None:
            h = self.heads
            owner = h.prototype_labels
            if owner is None:
                owner = np.argmax(prototypes @ h.emb_coef.T + h.emb_intercept, axis=1)
            self._examples_of = [np.flatnonzero(owner == i) for i in range(len(h.labels))]
        return self._examples_of

    def _similarity_for_threshold(
        self, embeddings: FloatArray, proba: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64] | None:
        """What ``decide`` compares with ``similarity_threshold``, when nothing else reads
        the nearest examples (no vote, no scope detector): per row, the nearest example's
        similarity, or a similarity known to clear the threshold.

        Comparing a message with every example streams all prototypes through the cache
        (4,675 x 384 floats for Bitext: about 0.25 ms per message once the
        encoder has evicted them). The examples of the message's best intent usually hold
        one well above the threshold, which settles the test; only when some row is not
        settled are all examples compared, exactly as before. A dot product of unit
        vectors in float32 is off by less than 3e-5 whatever the summation order, so a
        margin of 1e-3 keeps every decision the same.
        """
        if self._prototypes is not None:
            examples = self._examples(self._prototypes)
            queries = embeddings.astype(np.float32, copy=False)
            best = self._in_scope[proba[:, self._in_scope].argmax(axis=1)]
            found = np.empty(len(queries), dtype=np.float64)
            for r, label in enumerate(best):
                rows = examples[int(label)]
                if not len(rows):
                    break
                found[r] = float((self._prototypes[rows] @ queries[r]).max())
                if found[r] < self.heads.similarity_threshold + _SETTLED_MARGIN:
                    break
            else:
                return found
        neighbours = self.neighbours(embeddings)
        if neighbours is not None and neighbours[0].shape[1]:
            return neighbours[0][:, 0]
        return self.similarity(embeddings)

    def predict_embedded(
        self, embeddings: FloatArray, texts: Sequence[str], *, top_k: int = 3
    ) -> list[IntentPrediction]:
        """Decisions from precomputed embeddings (evaluation encodes in bulk)."""
        if self.heads.detector is None and self.heads.vote_weight <= 0:
            proba = self.predict_proba_embedded(embeddings, texts)
            similarity = self._similarity_for_threshold(embeddings, proba)
            return self.decide(proba, similarity=similarity, top_k=top_k)
        neighbours = self.neighbours(embeddings)
        proba = self.predict_proba_embedded(embeddings, texts, neighbours=neighbours)
        if self.heads.detector is not None:
            scope = self.scope_scores(embeddings, proba, neighbours)
            return self.decide(proba, scope_score=scope, top_k=top_k)
        similarity = (
            neighbours[0][:, 0]
            if neighbours is not None and neighbours[0].shape[1]
            else self.similarity(embeddings)
        )
        return self.decide(proba, similarity=similarity, top_k=top_k)

    def predict_read(
        self, texts: Sequence[str], embeddings: FloatArray, *, top_k: int = 3
    ) -> list[IntentPrediction]:
        """Decisions for ``texts`` whose vectors as typed are at hand (evaluation encodes in
        bulk, once for several models): only the texts this model reads otherwise (typos
        corrected, ``reading``) are encoded again."""
        read = self.read(texts)
        changed = [
            i for i, (typed, seen) in enumerate(zip(texts, read, strict=True)) if typed != seen
        ]
        if changed:
            embeddings = np.array(embeddings, copy=True)
            embeddings[changed] = self.encoder.encode([read[i] for i in changed])
        return self.predict_embedded(embeddings, read, top_k=top_k)

    def predict(self, texts: Sequence[str], *, top_k: int = 3) -> list[IntentPrediction]:
        """Decide the intent of each text."""
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise InvalidInputError(f"text #{i} is empty")
        if not texts:
            return []
        read = self.read(texts)
        return self.predict_embedded(self.encoder.encode(read), read, top_k=top_k)

    def decide(
        self,
        proba: npt.NDArray[np.float64],
        *,
        similarity: npt.NDArray[np.float64] | None = None,
        scope_score: npt.NDArray[np.float64] | None = None,
        top_k: int = 3,
    ) -> list[IntentPrediction]:
        """Turn probability rows into decisions (rejection, ambiguity, alternatives).

        A message is rejected when the out-of-scope class wins, and then either (with a
        scope detector and its ``scope_score``) when that score is below the detector's
        threshold, or (without one) when the best in-scope intent (or its category, see
        ``threshold_scope``) does not reach ``oos_threshold`` or the message is further
        from every in-scope training example than ``similarity_threshold`` allows.
        """
        h = self.heads
        results = []
        by_category = self.category_probabilities(proba)
        for n, row in enumerate(proba):
            in_scope = row[self._in_scope]
            order = self._in_scope[np.argsort(-in_scope)]
            best = int(order[0])
            p_best = float(row[best])
            p_second = float(row[order[1]]) if len(order) > 1 else 0.0
            oos_wins = self._oos_index is not None and int(np.argmax(row)) == self._oos_index
            p_scope = float(row[self._threshold_groups[best]].sum())
            if h.detector is not None and scope_score is not None:
                rejected = oos_wins or bool(scope_score[n] < h.detector.threshold)
            else:
                too_far = similarity is not None and similarity[n] < h.similarity_threshold
                rejected = oos_wins or p_scope < h.oos_threshold or too_far
            if rejected:
                p_oos = float(row[self._oos_index]) if self._oos_index is not None else 0.0
                label, confidence, category = h.oos_label, max(p_oos, 1.0 - p_scope), None
                alternatives = order[:top_k]
            else:
                label, confidence = h.labels[best], p_best
                category = self.categories.get(label)
                alternatives = order[1 : top_k + 1]
            results.append(
                IntentPrediction(
                    label=label,
                    confidence=round(confidence, 4),
                    category=category,
                    alternatives=tuple(
                        LabelScore(h.labels[int(j)], round(float(row[j]), 4)) for j in alternatives
                    ),
                    out_of_scope=rejected,
                    ambiguous=(not rejected) and (p_best - p_second) < h.ambiguity_margin,
                    category_probabilities=by_category[n],
                )
            )
        return results

    # -- persistence --------------------------------------------------------------
    def save(
        self,
        folder: Path,
        *,
        training_data: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ArtifactManifest:
        """Write the artifact folder (atomically) with its manifest."""
        h = self.heads

        def write(tmp: Path) -> None:
            np.save(tmp / "emb_coef.npy", h.emb_coef.astype(np.float32))
            np.save(tmp / "emb_intercept.npy", h.emb_intercept.astype(np.float32))
            if h.lex_coef is not None and h.lex_intercept is not None and h.lex_idf is not None:
                coef = h.lex_coef.tocsr().astype(np.float32)
                coef.eliminate_zeros()
                np.save(tmp / "lex_coef_data.npy", coef.data)
                np.save(tmp / "lex_coef_indices.npy", coef.indices.astype(np.int32))
                np.save(tmp / "lex_coef_indptr.npy", coef.indptr.astype(np.int64))
                np.save(tmp / "lex_intercept.npy", h.lex_intercept.astype(np.float32))
                np.save(tmp / "lex_idf.npy", h.lex_idf.astype(np.float32))
            if h.prototypes is not None:
                np.save(tmp / "prototypes.npy", h.prototypes.astype(np.float16))
            if h.prototype_labels is not None:
                np.save(tmp / "prototype_labels.npy", h.prototype_labels.astype(np.int32))
            if h.gaussians is not None:
                np.save(tmp / "gaussian_means.npy", h.gaussians.means.astype(np.float32))
                np.save(tmp / "gaussian_precision.npy", h.gaussians.precision.astype(np.float32))
            if h.adapter is not None:
                h.adapter.save(tmp)
            if h.tuned is not None:
                h.tuned.save(tmp)
            if h.vocabulary is not None:
                (tmp / VOCABULARY_FILE).write_text(
                    json.dumps(dict(h.vocabulary), ensure_ascii=False), encoding="utf-8"
                )

        all_params = {
            "oos_label": h.oos_label,
            "fusion_weight": h.fusion_weight,
            "temperature": h.temperature,
            "oos_threshold": h.oos_threshold,
            "similarity_threshold": h.similarity_threshold,
            "threshold_scope": h.threshold_scope,
            "ambiguity_margin": h.ambiguity_margin,
            "lexical": h.lex_coef is not None,
            "prototypes": h.prototypes is not None,
            "prototype_labels": h.prototype_labels is not None,
            "knn_k": h.knn_k,
            "vote_weight": h.vote_weight,
            "vote_k": h.vote_k,
            "vote_tau": h.vote_tau,
            "gaussians": h.gaussians is not None,
            "detector": h.detector.to_json() if h.detector is not None else None,
            "adapter": list(ADAPTER_FILES) if h.adapter is not None else None,
            "adapter_weight": h.adapter_weight,
            "tuned_encoder": h.tuned.params() if h.tuned is not None else None,
            "tuned_weight": h.tuned_weight,
            "vocabulary": h.vocabulary is not None,
            "categories": self.categories,
            **dict(params or {}),
        }
        manifest = write_artifact(
            folder,
            name=self.name,
            type=ARTIFACT_TYPE,
            version=self._version,
            encoder=EncoderInfo(self.encoder.model_id, self.encoder.dimension),
            writer=write,
            training_data=training_data,
            labels=list(h.labels),
            metrics=metrics,
            params=all_params,
        )
        self.manifest = manifest
        return manifest

    @classmethod
    def from_artifact(cls, folder: Path, *, encoder: Encoder) -> IntentClassifier:
        """Load an artifact folder, verifying checksums and encoder compatibility."""
        folder = Path(folder)
        manifest = read_manifest(folder, expected_type=ARTIFACT_TYPE)
        check_encoder(manifest, encoder, source=folder)
        p = manifest.params
        try:
            labels = tuple(manifest.labels)
            lex_coef = lex_intercept = lex_idf = None
            if p.get("lexical"):
                idf = np.load(folder / "lex_idf.npy")
                lex_coef = sp.csr_matrix(
                    (
                        np.load(folder / "lex_coef_data.npy"),
                        np.load(folder / "lex_coef_indices.npy"),
                        np.load(folder / "lex_coef_indptr.npy"),
                    ),
                    shape=(len(labels), idf.shape[0]),
                )
                lex_intercept = np.load(folder / "lex_intercept.npy")
                lex_idf = idf
            prototypes = np.load(folder / "prototypes.npy") if p.get("prototypes") else None
            prototype_labels = (
                np.load(folder / "prototype_labels.npy") if p.get("prototype_labels") else None
            )
            gaussians = (
                ClassGaussians(
                    means=np.load(folder / "gaussian_means.npy"),
                    precision=np.load(folder / "gaussian_precision.npy"),
                )
                if p.get("gaussians")
                else None
            )
            detector = ScopeDetector.from_json(p["detector"]) if p.get("detector") else None
            adapter = EmbeddingAdapter.load(folder) if p.get("adapter") else None
            tuned = (
                TunedEncoderHead.load(folder, dict(p["tuned_encoder"]))
                if p.get("tuned_encoder")
                else None
            )
            heads = IntentHeads(
                labels=labels,
                emb_coef=np.load(folder / "emb_coef.npy"),
                emb_intercept=np.load(folder / "emb_intercept.npy"),
                lex_coef=lex_coef,
                lex_intercept=lex_intercept,
                lex_idf=lex_idf,
                fusion_weight=float(p["fusion_weight"]),
                temperature=float(p["temperature"]),
                oos_threshold=float(p["oos_threshold"]),
                ambiguity_margin=float(p["ambiguity_margin"]),
                oos_label=str(p.get("oos_label", DEFAULT_OOS_LABEL)),
                prototypes=prototypes,
                similarity_threshold=float(p.get("similarity_threshold", 0.0)),
                threshold_scope=str(p.get("threshold_scope", "intent")),
                prototype_labels=prototype_labels,
                knn_k=int(p.get("knn_k", 1)),
                vote_weight=float(p.get("vote_weight", 0.0)),
                vote_k=int(p.get("vote_k", 10)),
                vote_tau=float(p.get("vote_tau", 0.05)),
                gaussians=gaussians,
                detector=detector,
                adapter=adapter,
                adapter_weight=float(p.get("adapter_weight", 0.0)),
                tuned=tuned,
                tuned_weight=float(p.get("tuned_weight", 0.0)),
                vocabulary=(
                    json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
                    if p.get("vocabulary")
                    else None
                ),
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ArtifactError(f"{folder}: cannot read intent classifier ({exc})") from exc
        categories = p.get("categories") or {}
        if not isinstance(categories, dict):
            raise ArtifactError(f"{folder}: 'categories' must be an object")
        return cls(
            heads,
            encoder=encoder,
            categories={str(k): str(v) for k, v in categories.items()},
            name=manifest.name,
            version=manifest.version,
            manifest=manifest,
        )
