"""Urgency model: a linear classifier on the sentence embedding plus explicit signals.

Four levels (low, normal, high, critical). The model is multinomial logistic regression
over ``[embedding, scale * signals, intent_scale * intent categories]``. The intent block
is the intent model's calibrated probability summed per *category*, plus whether it
rejected the message as out of scope: categories are a fixed set, so the urgency model
survives intent-model retrains (and may go without the block, see training). Missing
a critical message costs far more than over-flagging one, so the decision is
cost-sensitive: ``critical`` wins whenever its probability reaches a threshold fitted by
cross-validation (well below the argmax point). A customer writing for the third time
(from the conversation history) is at least ``high`` whatever the text says.

Artifacts since ``urgency-en@5`` carry an emergency detector (``models/emergency_detector.py``):
then *critical* means an emergency recognised from meaning (harm, medical need, unsafe
product, money taken without consent, account takeover, data leak, legal threat,
harassment), decided by the detector's calibrated score alone, and the level head only
chooses between low, normal and high. The first reason names the recognised situation.
Since ``urgency-en@8`` the head's log-probabilities may carry a per-level bias before that
choice, fitted by cross-validation to the head's macro-F1 (class weights balance the
training counts, not the costs of the normal/high boundary).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import numpy as np
import numpy.typing as npt

from models.artifact_manifest import (
    ArtifactManifest,
    EncoderInfo,
    check_encoder,
    read_manifest,
    write_artifact,
)
from models.emergency_detector import FILES as EMERGENCY_FILES
from models.emergency_detector import LEXICAL_FILES as EMERGENCY_LEXICAL_FILES
from models.emergency_detector import EmergencyDetector, EmergencyFinding
from models.errors import ArtifactError
from models.intent_classifier import (
    DEFAULT_OOS_LABEL,
    IntentClassifier,
    IntentPrediction,
)
from models.lexical_features import LexicalScorer
from models.probabilities import softmax
from models.protocols import Encoder
from models.urgency_signals import FEATURE_NAMES, UrgencySignals, cue_phrase

logger = logging.getLogger(__name__)

ARTIFACT_TYPE = "urgency-classifier"
UrgencyLevel = Literal["low", "normal", "high", "critical"]
LEVELS: Final[tuple[str, ...]] = get_args(UrgencyLevel)
_LEVEL_SCORE: Final = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0])
REPEAT_CONTACT_FLOOR = 2  # earlier customer messages that make a ticket at least "high"
MAX_REASONS = 5
#: The level head's hashed n-gram block (weights, idf), present when training kept it.
LEXICAL_FILES: Final = ("lexical_coef.npy", "lexical_idf.npy")
#: Intent categories the urgency model can read, a fixed set shared with the intent data
#: (Bitext categories), plus the intent model's out-of-scope decision (1.0 when it
#: rejected the message). An intent model that lacks a category contributes 0 for it; a
#: category outside this set is ignored.
INTENT_CATEGORIES: Final = (
    "ORDER",
    "DELIVERY",
    "REFUND",
    "PAYMENT",
    "ACCOUNT",
    "INVOICE",
    "CONTACT",
    "FEEDBACK",
    "NEWSLETTER",
    "SHIPPING_ADDRESS",
    "CANCELLATION_FEE",
    DEFAULT_OOS_LABEL,
)

_CRITICAL_CUES: Final = (
    "unauthorized_charge",
    "account_takeover",
    "safety",
    "legal",
    "privacy",
    "threat",
)
# Billing mistakes by the company and payment disputes are high or normal by issue 10's
# rubric, not emergencies, so they explain a high level as well as a critical one.
_BILLING_CUES: Final = ("double_charge", "charged_after_cancel", "chargeback")
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
    "critical": _CRITICAL_CUES + _BILLING_CUES + _HIGH_CUES,
    # A critical cue word on a message that is not critical would mislead the reader.
    "high": _BILLING_CUES + _HIGH_CUES,
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
    #: Probability that the message reports an emergency (None without a detector);
    #: the respond policy compares it with its own, operator-movable threshold.
    critical_score: float | None = None
    #: The emergency situation the detector recognised, when the level is critical.
    situation: str | None = None


@dataclass(frozen=True)
class UrgencyHeads:
    """Fitted numbers of the urgency model."""

    coef: FloatArray  # (4, dimension + n_signals + n_intent_features)
    intercept: FloatArray  # (4,)
    signal_scale: float
    critical_threshold: float
    feature_names: tuple[str, ...] = FEATURE_NAMES
    #: Intent categories read as features, in column order; empty when the model
    #: was trained without intent features.
    intent_features: tuple[str, ...] = ()
    intent_scale: float = 1.0
    #: Weights of the hashed word/char n-gram TF-IDF block (4, n_buckets), already
    #: multiplied by the block's weight, and its idf; both None without the block.
    lexical_coef: FloatArray | None = None
    lexical_idf: FloatArray | None = None
    #: Added to the head's log-probabilities (one per level) before it picks low, normal
    #: or high next to an emergency detector; None: the plain argmax.
    level_bias: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.coef.shape[0] != len(LEVELS) or self.intercept.shape != (len(LEVELS),):
            raise ArtifactError("urgency head does not match the four levels")
        if self.level_bias is not None and (
            len(self.level_bias) != len(LEVELS) or not np.all(np.isfinite(self.level_bias))
        ):
            raise ArtifactError("urgency level bias needs one finite number per level")
        if (self.lexical_coef is None) != (self.lexical_idf is None):
            raise ArtifactError("urgency lexical weights and idf come together")
        if (
            self.lexical_coef is not None
            and self.lexical_idf is not None
            and self.lexical_coef.shape != (len(LEVELS), self.lexical_idf.shape[0])
        ):
            raise ArtifactError("urgency lexical weights do not match the idf buckets")
        if not 0.0 < self.critical_threshold <= 1.0:
            raise ArtifactError("critical threshold must be in (0, 1]")


def intent_matrix(
    intents: Sequence[IntentPrediction], names: Sequence[str]
) -> npt.NDArray[np.float64]:
    """Intent features in ``names`` order: probability per category, out-of-scope decision.

    A category the intent model does not produce counts 0.

    Raises:
        ValueError: a prediction carries no category probabilities.
    """
    out = np.zeros((len(intents), len(names)), dtype=np.float64)
    if not names:
        return out
    for i, p in enumerate(intents):
        row = p.category_probabilities
        if row is None:
            raise ValueError(f"intent category probabilities are missing for message #{i}")
        out[i] = [
            float(p.out_of_scope) if name == DEFAULT_OOS_LABEL else float(row.get(name, 0.0))
            for name in names
        ]
    return out


def feature_matrix(
    embeddings: FloatArray,
    signals: Sequence[UrgencySignals],
    *,
    signal_scale: float,
    intent: npt.NDArray[np.float64] | None = None,
    intent_scale: float = 1.0,
) -> npt.NDArray[np.float64]:
    """``[embedding, scale * signals, intent_scale * intent]`` rows, the model's input."""
    sig = np.stack([s.values for s in signals]) if signals else np.zeros((0, len(FEATURE_NAMES)))
    parts = [embeddings.astype(np.float64), signal_scale * sig.astype(np.float64)]
    if intent is not None and intent.shape[1]:
        parts.append(intent_scale * intent.astype(np.float64))
    return np.hstack(parts)


def decide_levels(
    proba: npt.NDArray[np.float64], *, critical_threshold: float
) -> npt.NDArray[np.int64]:
    """Cost-sensitive decision: critical at ``critical_threshold``, else the argmax."""
    levels = np.argmax(proba[:, :3], axis=1)
    levels[proba[:, 3] >= critical_threshold] = 3
    return levels.astype(np.int64)


def head_levels(
    proba: npt.NDArray[np.float64], *, bias: Sequence[float] | None = None
) -> npt.NDArray[np.int64]:
    """The level head's choice next to an emergency detector: low, normal or high.

    The argmax of the log-probabilities plus ``bias``; a critical reading becomes high
    (seen soon, but only the detector escalates an emergency).
    """
    scores = np.log(np.clip(proba, 1e-12, None))
    if bias is not None:
        scores = scores + np.asarray(bias, dtype=np.float64)
    return np.minimum(np.argmax(scores, axis=1), LEVELS.index("high")).astype(np.int64)


def explain(
    level: str, signals: UrgencySignals, finding: EmergencyFinding | None = None
) -> tuple[str, ...]:
    """Short phrases that say why a message got its level.

    A critical level from the emergency detector is explained by the recognised
    situation first ("emergency: unsafe product").
    """
    reasons: list[str] = []
    if level == "critical" and finding is not None and finding.phrase is not None:
        reasons.append(f"emergency: {finding.phrase}")
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
    money_taken = bool(fired & {"unauthorized_charge", "account_takeover", *_BILLING_CUES})
    if (
        level in {"high", "critical"}
        and signals.money_max is not None
        and (signals.money_max >= 500 or money_taken)
    ):
        reasons.append(f"mentions {signals.money_text}")
    if not reasons:
        # Every level carries a reason a person can read, even without a specific cue.
        reasons.append(
            f"reads like earlier {level} messages"
            if level in {"high", "critical"}
            else {"normal": "ordinary request", "low": "nothing to act on"}.get(level, level)
        )
    kept = reasons[:MAX_REASONS]
    # Strong anger alone can make a message high: never let the cut hide it.
    anger = cue_phrase("strong_anger")
    if anger in reasons and anger not in kept:
        kept[-1] = anger
    return tuple(kept)


class UrgencyClassifier:
    """Embedding + signals (+ intent category) urgency model, cost-sensitive on critical."""

    def __init__(
        self,
        heads: UrgencyHeads,
        *,
        encoder: Encoder,
        name: str = "urgency",
        version: str = "0",
        intent_model: str | None = None,
        manifest: ArtifactManifest | None = None,
        emergency: EmergencyDetector | None = None,
    ) -> None:
        if emergency is not None and emergency.heads.dimension != encoder.dimension:
            raise ArtifactError(
                f"emergency detector reads {emergency.heads.dimension}-d vectors, the encoder "
                f"gives {encoder.dimension}-d"
            )
        expected = encoder.dimension + len(heads.feature_names) + len(heads.intent_features)
        if heads.coef.shape[1] != expected:
            raise ArtifactError(
                f"urgency head expects {heads.coef.shape[1]} inputs, encoder, signals and "
                f"intent features give {expected}"
            )
        if tuple(heads.feature_names) != FEATURE_NAMES:
            raise ArtifactError(
                "urgency artifact was trained on other signals than this code computes; "
                "retrain it with `triage urgency train`"
            )
        unknown = set(heads.intent_features) - set(INTENT_CATEGORIES)
        if unknown:
            raise ArtifactError(f"urgency artifact reads unknown intent categories {unknown}")
        self.heads = heads
        self.encoder = encoder
        self.name = name
        self._version = version
        self.intent_model = intent_model
        self.manifest = manifest
        self.emergency = emergency
        self._lexical = (
            LexicalScorer(heads.lexical_idf, heads.lexical_coef)
            if heads.lexical_idf is not None and heads.lexical_coef is not None
            else None
        )

    @property
    def version(self) -> str:
        """``name@version`` as written in the manifest."""
        return f"{self.name}@{self._version}"

    @property
    def reads_text(self) -> bool:
        """Whether ``assess`` needs the focus texts (a lexical level head or detector)."""
        return self._lexical is not None or (
            self.emergency is not None and self.emergency.reads_text
        )

    @property
    def uses_intent(self) -> bool:
        """Whether ``assess`` needs the intent model's category probabilities."""
        return bool(self.heads.intent_features)

    def check_intent_model(self, intent: IntentClassifier) -> None:
        """Log how the live intent model differs from the one the features came from.

        Not an error: the features are category probabilities, a fixed set, so a
        retrained intent model with the same categories is a drop-in replacement.
        """
        if not self.uses_intent:
            return
        version = intent.version
        categories = {*intent.categories.values(), DEFAULT_OOS_LABEL}
        if self.intent_model is not None and version != self.intent_model:
            logger.info(
                "urgency model %s was trained with intent features from %s; live intent "
                "model is %s (same categories, features stay valid)",
                self.version,
                self.intent_model,
                version,
            )
        missing = [c for c in self.heads.intent_features if c not in categories]
        if missing:
            logger.warning(
                "intent model %s never produces categories %s read by urgency model %s; "
                "they count as 0",
                version,
                missing,
                self.version,
            )

    def _intent_block(
        self, n: int, intents: Sequence[IntentPrediction] | None
    ) -> npt.NDArray[np.float64] | None:
        if not self.uses_intent:
            return None
        if intents is None or len(intents) != n:
            raise ValueError(
                f"urgency model {self.version} reads intent categories: pass the intent "
                "prediction (with category probabilities) of every message"
            )
        return intent_matrix(intents, self.heads.intent_features)

    def predict_proba(
        self,
        embeddings: FloatArray,
        signals: Sequence[UrgencySignals],
        *,
        intents: Sequence[IntentPrediction] | None = None,
        texts: Sequence[str] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Probabilities over ``LEVELS`` for each message.

        Args:
            embeddings: Sentence embeddings of the focus texts.
            signals: One signal set per message.
            intents: Per message, the intent model's prediction (its
                ``category_probabilities`` and ``out_of_scope``); needed when
                ``uses_intent``, ignored otherwise.
            texts: The focus texts; needed when the head has a lexical block.

        Raises:
            ValueError: a needed intent prediction or text is missing.
        """
        h = self.heads
        x = feature_matrix(
            embeddings,
            signals,
            signal_scale=h.signal_scale,
            intent=self._intent_block(len(signals), intents),
            intent_scale=h.intent_scale,
        )
        z = x @ h.coef.T.astype(np.float64) + h.intercept.astype(np.float64)
        if self._lexical is not None:
            if texts is None or len(texts) != len(signals):
                raise ValueError(f"urgency model {self.version} reads the text of every message")
            z = z + self._lexical.scores(texts)
        return softmax(z)

    def assess(
        self,
        embeddings: FloatArray,
        signals: Sequence[UrgencySignals],
        *,
        intents: Sequence[IntentPrediction] | None = None,
        texts: Sequence[str] | None = None,
    ) -> list[UrgencyAssessment]:
        """Level, score and reasons for each message (``intents`` as in ``predict_proba``).

        ``texts`` are the focus texts the embeddings came from; an emergency detector
        with a lexical block needs them (``reads_text``).
        """
        if len(signals) != embeddings.shape[0]:
            raise ValueError("one signal set per embedding row is needed")
        if not signals:
            return []
        proba = self.predict_proba(embeddings, signals, intents=intents, texts=texts)
        findings: Sequence[EmergencyFinding | None]
        if self.emergency is not None:
            # Critical is the detector's call alone; the level head picks low/normal/high,
            # and a message it reads as critical that the detector does not confirm is
            # high: seen soon, but not escalated as an emergency.
            findings = self.emergency.detect(embeddings, texts)
            levels = head_levels(proba, bias=self.heads.level_bias)
            levels[[f.is_emergency for f in findings]] = LEVELS.index("critical")
        else:
            findings = [None] * len(signals)
            levels = decide_levels(proba, critical_threshold=self.heads.critical_threshold)
        out = []
        for row, idx, sig, finding in zip(proba, levels, signals, findings, strict=True):
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
                    reasons=explain(level, sig, finding),
                    probabilities={
                        lv: round(float(p), 4) for lv, p in zip(LEVELS, row, strict=True)
                    },
                    critical_score=finding.score if finding is not None else None,
                    situation=finding.situation
                    if finding is not None and level == "critical"
                    else None,
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
        emergency_descriptions: Sequence[str] = (),
    ) -> ArtifactManifest:
        """Write the artifact folder (atomically) with its manifest.

        ``emergency_descriptions`` are the described situations behind the detector's
        prototypes, kept in the artifact so a reader sees what was compared.
        """
        h = self.heads

        def write(tmp: Path) -> None:
            np.save(tmp / "coef.npy", h.coef.astype(np.float32))
            np.save(tmp / "intercept.npy", h.intercept.astype(np.float32))
            features = {"signals": list(h.feature_names), "intent": list(h.intent_features)}
            (tmp / "features.json").write_text(
                json.dumps(features, indent=2) + "\n", encoding="utf-8"
            )
            if h.lexical_coef is not None and h.lexical_idf is not None:
                np.save(tmp / LEXICAL_FILES[0], h.lexical_coef.astype(np.float32))
                np.save(tmp / LEXICAL_FILES[1], h.lexical_idf.astype(np.float32))
            if self.emergency is not None:
                self.emergency.write(tmp, descriptions=emergency_descriptions)

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
                "intent_scale": h.intent_scale if h.intent_features else None,
                "intent_model": self.intent_model,
                "critical_threshold": h.critical_threshold,
                "repeat_contact_floor": REPEAT_CONTACT_FLOOR,
                "emergency_threshold": self.emergency.threshold if self.emergency else None,
                "level_bias": list(h.level_bias) if h.level_bias is not None else None,
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
        p = manifest.params
        head_lexical = [name for name in LEXICAL_FILES if name in manifest.files]
        if head_lexical and len(head_lexical) != len(LEXICAL_FILES):
            raise ArtifactError(f"{folder}: urgency lexical files incomplete: {head_lexical}")
        try:
            features = json.loads((folder / "features.json").read_text(encoding="utf-8"))
            heads = UrgencyHeads(
                coef=np.load(folder / "coef.npy"),
                intercept=np.load(folder / "intercept.npy"),
                signal_scale=float(p["signal_scale"]),
                critical_threshold=float(p["critical_threshold"]),
                feature_names=tuple(str(n) for n in features["signals"]),
                intent_features=tuple(str(n) for n in features.get("intent", ())),
                intent_scale=float(p.get("intent_scale") or 1.0),
                lexical_coef=np.load(folder / LEXICAL_FILES[0]) if head_lexical else None,
                lexical_idf=np.load(folder / LEXICAL_FILES[1]) if head_lexical else None,
                level_bias=tuple(float(b) for b in p["level_bias"])
                if p.get("level_bias") is not None
                else None,
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ArtifactError(f"{folder}: cannot read urgency classifier ({exc})") from exc
        emergency = None
        present = [name for name in EMERGENCY_FILES if name in manifest.files]
        if present:
            if len(present) != len(EMERGENCY_FILES):
                missing = sorted(set(EMERGENCY_FILES) - set(present))
                raise ArtifactError(f"{folder}: emergency detector files missing: {missing}")
            lexical = [name for name in EMERGENCY_LEXICAL_FILES if name in manifest.files]
            if lexical and len(lexical) != len(EMERGENCY_LEXICAL_FILES):
                raise ArtifactError(f"{folder}: emergency lexical files incomplete: {lexical}")
            emergency = EmergencyDetector.read(folder, lexical=bool(lexical))
        intent_model = p.get("intent_model")
        return cls(
            heads,
            encoder=encoder,
            name=manifest.name,
            version=manifest.version,
            intent_model=str(intent_model) if intent_model else None,
            manifest=manifest,
            emergency=emergency,
        )
