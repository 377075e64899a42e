"""Which shipped answerability gate fits the encoder: one per embedding family.

The gate thresholds a cosine, and cosines move across fp32 and int8 embeddings enough to
cost 2-3 points of balanced accuracy (README "Performance"), so a gate serves only the
numeric family it was fitted on (``models.artifact_manifest.check_encoder``). The int8
vectors also follow the quantisation config, which ``triage encoder export`` picks from the
CPU's flags, so three gates ship: the default folder (fitted on ``onnx-int8-avx512_vnni``),
``answerability-gate-int8-avx2`` and ``answerability-gate-fp32`` (``torch`` and ``onnx``).
An int8 config without its own gate (``avx512``, ``arm64``) gets the default int8 gate
(across int8 configs a gate lost 0.7 points where we could measure it). A gate folder set
explicitly is always the one used.
"""

from __future__ import annotations

from pathlib import Path

from models.artifact_manifest import embedding_family, numeric_family
from models.protocols import Encoder
from service.settings import (
    DEFAULT_DRAFTS_GATE,
    DEFAULT_DRAFTS_GATE_FP32,
    DEFAULT_DRAFTS_GATE_INT8_AVX2,
    Settings,
)

#: Shipped gates fitted on one exact embedding family, other than the defaults.
SHIPPED_FAMILY_GATES: dict[str, Path] = {"onnx-int8-avx2": DEFAULT_DRAFTS_GATE_INT8_AVX2}


def gate_dir(settings: Settings, encoder: Encoder) -> Path:
    """``settings.drafts_gate_dir``, or for the default, the shipped gate of the encoder's
    family."""
    if settings.drafts_gate_dir != DEFAULT_DRAFTS_GATE:
        return settings.drafts_gate_dir
    if numeric_family(encoder.model_id) == "fp32":
        return DEFAULT_DRAFTS_GATE_FP32
    return SHIPPED_FAMILY_GATES.get(embedding_family(encoder.model_id), DEFAULT_DRAFTS_GATE)
