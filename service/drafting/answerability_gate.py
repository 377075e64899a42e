"""Whether the retrieved passages answer the message at all.

Hybrid retrieval always returns *something*, and its fused score is only comparable
within one search. The gate reads an absolute signal instead: the best cosine similarity
between the message and a retrieved passage or one of its sentences (same encoder as the
index). A one-feature logistic curve, fitted on the help centre's development queries
(answerable) against off-topic CLINC150 queries (``triage drafts fit-gate``), turns it
into a probability; below ``threshold`` no draft states facts and an agent answers.
The curve depends on the encoder, so the artifact names it and loading checks it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.artifact_manifest import (
    EncoderInfo,
    check_encoder,
    read_manifest,
    write_artifact,
)
from models.errors import ArtifactError
from models.protocols import Encoder

ARTIFACT_TYPE = "answerability-gate"
PARAMS_FILE = "gate.json"


@dataclass(frozen=True)
class AnswerabilityGate:
    """``P(answerable) = sigmoid(slope * relevance + intercept)``; answer when the relevance
    reaches ``threshold``.

    Args:
        threshold: lowest relevance that counts as answerable.
        slope: logistic slope over the relevance.
        intercept: logistic intercept.
        version: identifier recorded with every suggestion.
    """

    threshold: float
    slope: float = 10.0
    intercept: float = 0.0
    version: str = "manual"

    def __post_init__(self) -> None:
        if not -1.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be a cosine similarity in [-1, 1]")
        if self.slope <= 0:
            raise ValueError("slope must be positive (more similar = more answerable)")

    @classmethod
    def fixed(cls, threshold: float) -> AnswerabilityGate:
        """A gate at a given threshold whose probability is 0.5 exactly there."""
        return cls(threshold=threshold, slope=10.0, intercept=-10.0 * threshold, version="fixed")

    def probability(self, relevance: float) -> float:
        """Probability that the passages answer the message."""
        z = self.slope * relevance + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def answerable(self, relevance: float) -> bool:
        """Relevance reaches the threshold."""
        return relevance >= self.threshold

    @classmethod
    def from_artifact(cls, folder: Path, *, encoder: Encoder) -> AnswerabilityGate:
        """Load and verify a gate; refuses a gate fitted with another encoder."""
        manifest = read_manifest(folder, expected_type=ARTIFACT_TYPE)
        check_encoder(manifest, encoder, source=folder)
        try:
            raw = json.loads((folder / PARAMS_FILE).read_text(encoding="utf-8"))
            return cls(
                threshold=float(raw["threshold"]),
                slope=float(raw["slope"]),
                intercept=float(raw["intercept"]),
                version=f"{manifest.name}@{manifest.version}",
            )
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{folder}: malformed {PARAMS_FILE} ({exc})") from exc

    def save(
        self,
        folder: Path,
        *,
        name: str,
        version: str,
        encoder: Encoder,
        training_data: dict[str, Any],
        metrics: dict[str, Any],
    ) -> None:
        """Write the gate as an artifact folder."""
        params = {"threshold": self.threshold, "slope": self.slope, "intercept": self.intercept}

        def writer(tmp: Path) -> None:
            (tmp / PARAMS_FILE).write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")

        write_artifact(
            folder,
            name=name,
            type=ARTIFACT_TYPE,
            version=version,
            encoder=EncoderInfo(encoder.model_id, encoder.dimension),
            writer=writer,
            training_data=training_data,
            metrics=metrics,
            params={**params, "feature": "max cosine(message, passage or passage sentence)"},
        )
