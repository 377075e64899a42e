"""Recognises emergencies from meaning: the embedding, and its closeness to described situations.

A multinomial logistic regression reads ``[embedding, scale * similarity per situation]``
(the similarity is the best cosine to the situation's plain-word descriptions, see
``models/emergency_situations.py``), plus, when trained with it, hashed word and character
n-gram TF-IDF of the text (``models/lexical_features.py``: weights learned from the
training messages, no vocabulary or cue list stored), and gives a probability for "no
emergency" and each situation. The emergency score is ``1 - P(no emergency)``; the
recognised situation is the most probable one. The decision threshold on the score is
calibrated at training time for a stated trade-off between recall of emergencies and false
alarms on routine messages, and operators may move it (respond policy). No hand-written cue
words and no nearest-neighbour vote:
an account, payment or refund *topic* is not an emergency, whatever words it uses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from models.errors import ArtifactError
from models.lexical_features import LexicalScorer
from models.probabilities import softmax

NO_EMERGENCY: Final = "none"
FILES: Final = (
    "emergency_coef.npy",
    "emergency_intercept.npy",
    "emergency_prototypes.npy",
    "emergency.json",
)
LEXICAL_FILES: Final = ("emergency_lexical_coef.npy", "emergency_idf.npy")

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmergencyFinding:
    """The detector's reading of one message."""

    score: float  # probability that the message reports an emergency
    situation: str | None  # the most probable situation (None when no situation fits)
    phrase: str | None  # its reason phrase
    is_emergency: bool  # score at or above the calibrated threshold


@dataclass(frozen=True)
class EmergencyHeads:
    """Fitted numbers of the detector."""

    coef: FloatArray  # (1 + n_situations, dimension + n_situations)
    intercept: FloatArray  # (1 + n_situations,)
    prototypes: FloatArray  # (n_descriptions, dimension), unit vectors
    prototype_situation: npt.NDArray[np.int64]  # situation index per prototype row
    situations: tuple[str, ...]
    phrases: tuple[str, ...]
    similarity_scale: float
    threshold: float
    #: Weights of the hashed n-gram TF-IDF block (1 + n_situations, n_buckets) and its idf;
    #: both None for an embedding-only detector.
    lexical_coef: FloatArray | None = None
    idf: FloatArray | None = None

    def __post_init__(self) -> None:
        k = len(self.situations)
        if (self.lexical_coef is None) != (self.idf is None):
            raise ArtifactError("emergency lexical weights and idf come together")
        if (
            self.lexical_coef is not None
            and self.idf is not None
            and self.lexical_coef.shape != (k + 1, self.idf.shape[0])
        ):
            raise ArtifactError("emergency lexical weights do not match the idf buckets")
        if k == 0 or len(self.phrases) != k:
            raise ArtifactError("emergency detector needs one phrase per situation")
        if self.coef.shape[0] != k + 1 or self.intercept.shape != (k + 1,):
            raise ArtifactError("emergency head does not match its situations")
        if self.prototypes.shape[0] != self.prototype_situation.shape[0]:
            raise ArtifactError("emergency prototypes and their situations differ in number")
        if self.prototype_situation.size and (
            self.prototype_situation.min() < 0 or self.prototype_situation.max() >= k
        ):
            raise ArtifactError("emergency prototype names an unknown situation")
        if set(range(k)) - set(self.prototype_situation.tolist()):
            raise ArtifactError("every emergency situation needs at least one description")
        if self.coef.shape[1] != self.prototypes.shape[1] + k:
            raise ArtifactError("emergency head does not match the embedding dimension")
        if not 0.0 < self.threshold < 1.0:
            raise ArtifactError("emergency threshold must be in (0, 1)")

    @property
    def dimension(self) -> int:
        """Embedding dimension the detector reads."""
        return int(self.prototypes.shape[1])


def situation_similarity(
    embeddings: FloatArray, prototypes: FloatArray, owner: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float64]:
    """Best cosine of each embedding to each situation's descriptions, shape (n, k)."""
    sims = embeddings.astype(np.float64) @ prototypes.astype(np.float64).T
    out = np.full((embeddings.shape[0], k), -1.0, dtype=np.float64)
    # One maximum per run of a situation's columns (sorted by situation), not a masked
    # copy per situation: a tenth of the cost for one message, the same maxima.
    order = np.argsort(owner, kind="stable")
    present, starts = np.unique(owner[order], return_index=True)
    if len(present) and sims.shape[0]:
        out[:, present] = np.maximum.reduceat(sims[:, order], starts, axis=1)
    return out


def emergency_inputs(
    embeddings: FloatArray,
    prototypes: FloatArray,
    owner: npt.NDArray[np.int64],
    k: int,
    *,
    similarity_scale: float,
) -> npt.NDArray[np.float64]:
    """``[embedding, scale * situation similarity]``, the detector's input rows."""
    sim = situation_similarity(embeddings, prototypes, owner, k)
    return np.hstack([embeddings.astype(np.float64), similarity_scale * sim])


class EmergencyDetector:
    """Emergency score and recognised situation per message. Pure after construction."""

    def __init__(self, heads: EmergencyHeads) -> None:
        self.heads = heads
        self._lexical = (
            LexicalScorer(heads.idf, heads.lexical_coef)
            if heads.idf is not None and heads.lexical_coef is not None
            else None
        )

    @property
    def reads_text(self) -> bool:
        """Whether ``proba``/``detect`` need the texts next to the embeddings."""
        return self._lexical is not None

    @property
    def threshold(self) -> float:
        """The calibrated decision threshold on the emergency score."""
        return self.heads.threshold

    def proba(
        self, embeddings: FloatArray, texts: Sequence[str] | None = None
    ) -> npt.NDArray[np.float64]:
        """Probabilities of (no emergency, situation 1, ...) per row.

        Raises:
            ValueError: the detector reads text and ``texts`` is missing or of another length.
        """
        h = self.heads
        if embeddings.shape[1] != h.dimension:
            raise ValueError(
                f"emergency detector reads {h.dimension}-d vectors, got {embeddings.shape[1]}"
            )
        x = emergency_inputs(
            embeddings,
            h.prototypes,
            h.prototype_situation,
            len(h.situations),
            similarity_scale=h.similarity_scale,
        )
        z = x @ h.coef.T.astype(np.float64) + h.intercept.astype(np.float64)
        if self._lexical is not None:
            if texts is None or len(texts) != embeddings.shape[0]:
                raise ValueError("the emergency detector reads the text of every message")
            z = z + self._lexical.scores(texts)
        return softmax(z)

    def detect(
        self,
        embeddings: FloatArray,
        texts: Sequence[str] | None = None,
        *,
        threshold: float | None = None,
    ) -> list[EmergencyFinding]:
        """One finding per row; ``threshold`` overrides the calibrated one."""
        cut = self.heads.threshold if threshold is None else threshold
        out = []
        for row in self.proba(embeddings, texts):
            score = float(1.0 - row[0])
            best = int(np.argmax(row[1:]))
            out.append(
                EmergencyFinding(
                    score=round(score, 4),
                    situation=self.heads.situations[best],
                    phrase=self.heads.phrases[best],
                    is_emergency=score >= cut,
                )
            )
        return out

    # -- persistence --------------------------------------------------------------
    def write(self, folder: Path, *, descriptions: Sequence[str] = ()) -> None:
        """Write the detector's files into an artifact folder being built."""
        h = self.heads
        np.save(folder / "emergency_coef.npy", h.coef.astype(np.float32))
        np.save(folder / "emergency_intercept.npy", h.intercept.astype(np.float32))
        np.save(folder / "emergency_prototypes.npy", h.prototypes.astype(np.float32))
        if h.lexical_coef is not None and h.idf is not None:
            np.save(folder / "emergency_lexical_coef.npy", h.lexical_coef.astype(np.float32))
            np.save(folder / "emergency_idf.npy", h.idf.astype(np.float32))
        meta: dict[str, Any] = {
            "classes": [NO_EMERGENCY, *h.situations],
            "phrases": list(h.phrases),
            "prototype_situation": [int(i) for i in h.prototype_situation],
            "descriptions": list(descriptions),
            "similarity_scale": h.similarity_scale,
            "threshold": h.threshold,
        }
        (folder / "emergency.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")

    @classmethod
    def read(cls, folder: Path, *, lexical: bool = False) -> EmergencyDetector:
        """Load the detector's files from a (checksum-verified) artifact folder."""
        try:
            meta = json.loads((folder / "emergency.json").read_text(encoding="utf-8"))
            classes = [str(c) for c in meta["classes"]]
            if not classes or classes[0] != NO_EMERGENCY:
                raise ValueError(f"first class must be {NO_EMERGENCY!r}")
            heads = EmergencyHeads(
                coef=np.load(folder / "emergency_coef.npy"),
                intercept=np.load(folder / "emergency_intercept.npy"),
                prototypes=np.load(folder / "emergency_prototypes.npy"),
                prototype_situation=np.array(meta["prototype_situation"], dtype=np.int64),
                situations=tuple(classes[1:]),
                phrases=tuple(str(p) for p in meta["phrases"]),
                similarity_scale=float(meta["similarity_scale"]),
                threshold=float(meta["threshold"]),
                lexical_coef=np.load(folder / LEXICAL_FILES[0]) if lexical else None,
                idf=np.load(folder / LEXICAL_FILES[1]) if lexical else None,
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ArtifactError(f"{folder}: cannot read the emergency detector ({exc})") from exc
        return cls(heads)
