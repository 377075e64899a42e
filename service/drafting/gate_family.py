"""Which shipped answerability gate fits the encoder: one per numeric family.

The gate thresholds a cosine, and cosines move across fp32 and int8 embeddings enough to
cost 2-3 points of balanced accuracy (README "Performance"), so a gate serves only the
family it was fitted on (``models.artifact_manifest.check_encoder``). Two gates ship: the
default folder, fitted on the default ``onnx-int8`` backend, and ``answerability-gate-fp32``
for ``torch`` and ``onnx``. A gate folder set explicitly is always the one used.
"""

from __future__ import annotations

from pathlib import Path

from models.artifact_manifest import embedding_family
from models.protocols import Encoder
from service.settings import DEFAULT_DRAFTS_GATE, DEFAULT_DRAFTS_GATE_FP32, Settings


def gate_dir(settings: Settings, encoder: Encoder) -> Path:
    """``settings.drafts_gate_dir``, or for the default, the shipped gate of the encoder's
    family."""
    if settings.drafts_gate_dir == DEFAULT_DRAFTS_GATE and (
        embedding_family(encoder.model_id) == "fp32"
    ):
        return DEFAULT_DRAFTS_GATE_FP32
    return settings.drafts_gate_dir
