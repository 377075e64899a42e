"""Urgency model: a linear classifier on the sentence embedding plus explicit signals.

Four levels (low, normal, high, critical). The model is multinomial logistic regression
over ``[embedding, scale * signals]``. Missing a critical message costs far more than
over-flagging one, so the decision is cost-sensitive: ``critical`` wins whenever its
probability reaches a threshold fitted on the dev split (well below the argmax point).
A customer writing for the third time (from the conversation history) is at least
``high`` whatever the text says.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from models.artifact_manifest import (
    ArtifactManifest,
    EncoderInfo,
    check_encoder,
    read_manifest,
    write_artifact,
)
from models.errors import ArtifactError
from models.protocols import Encoder
from models.urgency_signals import FEATURE_NAMES, UrgencySignals, cue_phrase

logger = logging.getLogger(__name__)

ARTIFACT_TYPE = "urgency-classifier"
LEVELS: Final = ("low", "normal", "high", "critical")
_LEVEL_SCORE: Final = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0])
REPEAT_CONTACT_FLOOR = 2  # earlier customer messages that make a ticket at least "high"
MAX_REASONS = 5

_CRITICAL_CUES: Final = (
    "unauthorized_charge",
    "account_takeover",
    "double_charge",
    "charged_after_cancel",
    "safety",
    "legal",
    "chargeback",
    "privacy",
    "threat",
)
_HIGH_CUES: Final = (
    "delivery_missing",
    "item_problem",
    "payment_failing",
    "login_blocked",
    "deadline",
    "cancel_before_ship",
    "repeat_contact",
    "manager",
    "strong_anger",
    "anger",
)
# Which cue phrases explain which level; the others would confuse a reader.
_REASON_CUES: Final = {
    "critical": _CRITICAL_CUES + _HIGH_CUES,
    "high": _HIGH_CUES + _CRITICAL_CUES,
    "normal": ("strong_anger", "anger", "question"),
    "low": ("praise_feedback", "newsletter"),
}

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class UrgencyAssessment:
    """The urgency decision for one message."""

    level: str
    score: float
    reasons: tuple[str, ...]
    probabilities: dict[str, float]


@dataclass(frozen=True)
class UrgencyHeads:
    """Fitted numbers of the urgency model."""

    coef: FloatArray  # (4, dimension + n_signals)
    intercept: FloatArray  # (4,)
    signal_scale: float
    critical_threshold: float
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __post_init__(self) -> None:
        if self.coef.shape[0] != len(LEVELS) or self.intercept.shape != (len(LEVELS),):
            raise ArtifactError("urgency head does not match the four levels")
        if not 0.0 < self.critical_threshold <= 1.0:
            raise ArtifactError("critical threshold must be in (0, 1]")


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def feature_matrix(
    embeddings: FloatArray, signals: Sequence[UrgencySignals], *, signal_scale: float
) -> npt.NDArray[np.float64]:
    """``[embedding, scale * signals]`` rows, the model's input."""
    sig = np.stack([s.values for s in signals]) if signals else np.zeros((0, len(FEATURE_NAMES)))
    return np.hstack([embeddings.astype(np.float64), signal_scale * sig.astype(np.float64)])


def decide_levels(
    proba: npt.NDArray[np.float64], *, critical_threshold: float
) -> npt.NDArray[np.int64]:
    """Cost-sensitive decision: critical at ``critical_threshold``, else the argmax."""
    levels = np.argmax(proba[:, :3], axis=1)
    levels[proba[:, 3] >= critical_threshold] = 3
    return levels.astype(np.int64)


def explain(level: str, signals: UrgencySignals) -> tuple[str, ...]:
    """Short phrases that say why a message got its level."""
    reasons: list[str] = []
    fired = set(signals.fired)
    if signals.prior_contacts >= 1 and level in {"high", "critical"}:
        n = signals.prior_contacts
        reasons.append(f"repeat contact ({n} earlier message{'s' if n > 1 else ''})")
    if level in {"high", "critical"} and signals.days_waited and signals.days_waited >= 3:
        days = round(signals.days_waited)
        reasons.append(
            f"delivery {days} days late" if signals.days_late else f"waiting {days} days"
        )
    for name in _REASON_CUES[level]:
        if name not in fired:
            continue
        if name == "delivery_missing" and any(r.startswith("delivery ") for r in reasons):
            continue
        if name == "repeat_contact" and any(r.startswith("repeat contact") for r in reasons):
            continue
        if name == "anger" and "strong_anger" in fired:
            continue
        reasons.append(cue_phrase(name))
    money_taken = bool(fired & set(_CRITICAL_CUES[:4]))
    if (
        level in {"high", "critical"}
        and signals.money_max is not None
        and (signals.money_max >= 500 or money_taken)
    ):
        reasons.append(f"mentions {signals.money_text}")
    if not reasons and level in {"high", "critical"}:
        reasons.append(f"reads like earlier {level} messages")
    kept = reasons[:MAX_REASONS]
    # Strong anger alone can make a message high: never let the cut hide it.
    anger = cue_phrase("strong_anger")
    if anger in reasons and anger not in kept:
        kept[-1] = anger
    return tuple(kept)


class UrgencyClassifier:
    """Embedding + signals urgency model with a cost-sensitive critical threshold."""

    def __init__(
        self,
        heads: UrgencyHeads,
        *,
        encoder: Encoder,
        name: str = "urgency",
        version: str = "0",
        manifest: ArtifactManifest | None = None,
    ) -> None:
        expected = encoder.dimension + len(heads.feature_names)
        if heads.coef.shape[1] != expected:
            raise ArtifactError(
                f"urgency head expects {heads.coef.shape[1]} inputs, encoder and signals give "
                f"{expected}"
            )
        if tuple(heads.feature_names) != FEATURE_NAMES:
            raise ArtifactError(
                "urgency artifact was trained on other signals than this code computes; "
                "retrain it with `triage urgency train`"
            )
        self.heads = heads
        self.encoder = encoder
        self.name = name
        self._version = version
        self.manifest = manifest

    @property
    def version(self) -> str:
        """``name@version`` as written in the manifest."""
        return f"{self.name}@{self._version}"

    def predict_proba(
        self, embeddings: FloatArray, signals: Sequence[UrgencySignals]
    ) -> npt.NDArray[np.float64]:
        """Probabilities over ``LEVELS`` for each message."""
        x = feature_matrix(embeddings, signals, signal_scale=self.heads.signal_scale)
        z = x @ self.heads.coef.T.astype(np.float64) + self.heads.intercept.astype(np.float64)
        return _softmax(z)

    def assess(
        self, embeddings: FloatArray, signals: Sequence[UrgencySignals]
    ) -> list[UrgencyAssessment]:
        """Level, score and reasons for each message."""
        if len(signals) != embeddings.shape[0]:
            raise ValueError("one signal set per embedding row is needed")
        if not signals:
            return []
        proba = self.predict_proba(embeddings, signals)
        levels = decide_levels(proba, critical_threshold=self.heads.critical_threshold)
        out = []
        for row, idx, sig in zip(proba, levels, signals, strict=True):
            level_idx = int(idx)
            if sig.prior_contacts >= REPEAT_CONTACT_FLOOR:
                level_idx = max(level_idx, LEVELS.index("high"))
            level = LEVELS[level_idx]
            score = float(row @ _LEVEL_SCORE)
            # Keep the score consistent with the decision: a critical call scores high.
            floor = {"low": 0.0, "normal": 0.25, "high": 0.5, "critical": 0.75}[level]
            out.append(
                UrgencyAssessment(
                    level=level,
                    score=round(max(score, floor), 4),
                    reasons=explain(level, sig),
                    probabilities={
                        lv: round(float(p), 4) for lv, p in zip(LEVELS, row, strict=True)
                    },
                )
            )
        return out

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
            np.save(tmp / "coef.npy", h.coef.astype(np.float32))
            np.save(tmp / "intercept.npy", h.intercept.astype(np.float32))
            (tmp / "features.json").write_text(
                json.dumps({"signals": list(h.feature_names)}, indent=2) + "\n", encoding="utf-8"
            )

        manifest = write_artifact(
            folder,
            name=self.name,
            type=ARTIFACT_TYPE,
            version=self._version,
            encoder=EncoderInfo(self.encoder.model_id, self.encoder.dimension),
            writer=write,
            training_data=training_data,
            labels=list(LEVELS),
            metrics=metrics,
            params={
                "signal_scale": h.signal_scale,
                "critical_threshold": h.critical_threshold,
                "repeat_contact_floor": REPEAT_CONTACT_FLOOR,
                **dict(params or {}),
            },
        )
        self.manifest = manifest
        return manifest

    @classmethod
    def from_artifact(cls, folder: Path, *, encoder: Encoder) -> UrgencyClassifier:
        """Load an artifact folder, verifying checksums and encoder compatibility."""
        folder = Path(folder)
        manifest = read_manifest(folder, expected_type=ARTIFACT_TYPE)
        check_encoder(manifest, encoder, source=folder)
        if tuple(manifest.labels) != LEVELS:
            raise ArtifactError(f"{folder}: labels {manifest.labels} are not {list(LEVELS)}")
        try:
            features = json.loads((folder / "features.json").read_text(encoding="utf-8"))
            heads = UrgencyHeads(
                coef=np.load(folder / "coef.npy"),
                intercept=np.load(folder / "intercept.npy"),
                signal_scale=float(manifest.params["signal_scale"]),
                critical_threshold=float(manifest.params["critical_threshold"]),
                feature_names=tuple(str(n) for n in features["signals"]),
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ArtifactError(f"{folder}: cannot read urgency classifier ({exc})") from exc
        return cls(
            heads, encoder=encoder, name=manifest.name, version=manifest.version, manifest=manifest
        )
