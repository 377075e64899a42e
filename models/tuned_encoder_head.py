"""A fine-tuned copy of the encoder with its own head: a second opinion on the intent.

Heads on the shared, frozen sentence vector cannot separate fine-grained intents beyond a
point (BANKING77's card and transfer intents); a copy of the encoder trained on the labels
(``training/encoder_fine_tuning.py``) errs on other messages, and adding its
log-probabilities to the fused scores lifts accuracy. It is opt-in because it costs a
second encoder pass per message (README "Intent classifier").

The copy is stored inside the intent artifact as an exported ONNX encoder folder
(``tuned_encoder/``, with its own manifest naming its weights and quantisation) next to
the head's two ``.npy`` files; the intent manifest hashes them all. Serving runs it on
ONNX Runtime, so the service still needs no torch.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.errors import ArtifactError
from models.onnx_encoder import OnnxEncoder
from models.probabilities import log_softmax

#: Where the exported encoder sits inside an intent artifact folder.
TUNED_ENCODER_FOLDER = "tuned_encoder"
#: The head's files in an intent artifact folder.
TUNED_HEAD_FILES = ("tuned_head_weight.npy", "tuned_head_bias.npy")


@dataclass(frozen=True, eq=False)
class TunedEncoderHead:
    """``log_softmax(scale * (normalise(mean_pool(encoder(text))) @ weight.T + bias))``."""

    encoder: OnnxEncoder
    weight: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    scale: float
    max_length: int

    def __post_init__(self) -> None:
        n, d = self.weight.shape
        if self.bias.shape != (n,):
            raise ArtifactError("tuned encoder head: bias does not match the weight")
        if self.encoder.dimension != d:
            raise ArtifactError(
                f"tuned encoder gives {self.encoder.dimension}-d vectors, its head reads {d}-d"
            )
        if not self.scale > 0 or self.max_length < 2:
            raise ArtifactError("tuned encoder head: scale and max_length must be positive")

    @classmethod
    def from_parts(
        cls,
        folder: Path,
        *,
        weight: npt.NDArray[np.floating[Any]],
        bias: npt.NDArray[np.floating[Any]],
        scale: float,
        max_length: int,
    ) -> TunedEncoderHead:
        """Open the exported encoder in ``folder`` (verified) under the given head."""
        # One thread: it runs inside the intent stage's own thread, one text per call.
        encoder = OnnxEncoder(folder, intra_op_threads=1, max_seq_length=max_length).load()
        return cls(
            encoder=encoder,
            weight=np.asarray(weight, dtype=np.float32),
            bias=np.asarray(bias, dtype=np.float32),
            scale=float(scale),
            max_length=int(max_length),
        )

    @property
    def n_labels(self) -> int:
        """Labels it scores."""
        return int(self.weight.shape[0])

    @property
    def model_id(self) -> str:
        """The exported encoder's id (its fine-tuned weights' fingerprint and variant)."""
        return self.encoder.model_id

    def log_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Log-probabilities over the classifier's labels, shape ``(n, n_labels)``."""
        vectors = self.encoder.encode(texts)
        z = (self.scale * (vectors @ self.weight.T + self.bias)).astype(np.float64)
        return log_softmax(z)

    def params(self) -> dict[str, Any]:
        """What the intent manifest records about it."""
        return {
            "folder": TUNED_ENCODER_FOLDER,
            "files": list(TUNED_HEAD_FILES),
            "model_id": self.model_id,
            "scale": self.scale,
            "max_length": self.max_length,
        }

    def save(self, folder: Path) -> None:
        """Copy the exported encoder and write the head into an artifact folder being
        written (the intent manifest then hashes every file)."""
        shutil.copytree(self.encoder.folder, folder / TUNED_ENCODER_FOLDER)
        np.save(folder / TUNED_HEAD_FILES[0], self.weight)
        np.save(folder / TUNED_HEAD_FILES[1], self.bias)

    @classmethod
    def load(cls, folder: Path, params: dict[str, Any]) -> TunedEncoderHead:
        """Read what :meth:`save` wrote, as the intent manifest's ``params`` describe it."""
        head = cls.from_parts(
            folder / TUNED_ENCODER_FOLDER,
            weight=np.load(folder / TUNED_HEAD_FILES[0]),
            bias=np.load(folder / TUNED_HEAD_FILES[1]),
            scale=float(params["scale"]),
            max_length=int(params["max_length"]),
        )
        if params.get("model_id") and head.model_id != params["model_id"]:
            raise ArtifactError(
                f"{folder}: tuned encoder is {head.model_id}, the manifest names "
                f"{params['model_id']}"
            )
        return head
