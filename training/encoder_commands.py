"""`triage encoder export`: build the ONNX encoder variants from the packaged weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import typer

from training.command_helpers import fail

app = typer.Typer(help="The sentence encoder: ONNX export (a build step).", no_args_is_help=True)

#: Our own messages (chat lines to e-mails), on which each export is compared with PyTorch.
PROBE_FILE = Path(__file__).resolve().parent / "data" / "urgency" / "urgency_messages.jsonl"


def probe_texts(limit: int = 400) -> list[str]:
    """Texts of the urgency data set (our own writing), for the agreement check."""
    rows = [json.loads(line) for line in PROBE_FILE.read_text(encoding="utf-8").splitlines()]
    return [str(r["text"]) for r in rows[:limit]]


@app.command("export")
def export(
    out: Path | None = typer.Option(
        None, "--out", help="Export folder (default: TRIAGE_ENCODER_EXPORT_DIR or models/exported)."
    ),
    variant: list[str] = typer.Option(
        ["onnx-fp32", "onnx-int8"], "--variant", help="onnx-fp32 and/or onnx-int8."
    ),
    quantization: str = typer.Option(
        "auto",
        "--quantization",
        help="auto (from the CPU flags), avx512_vnni, avx512, avx2, arm64.",
    ),
) -> None:
    """Export all-MiniLM-L6-v2 to ONNX (fp32 and dynamic int8) with a manifest per variant.

    Needs torch (a build-time dependency); the service then serves without it.
    """
    from models.encoder_export import (
        QUANTIZATION_CONFIGS,
        VARIANTS,
        QuantTarget,
        Variant,
        export_encoder,
        quantization_target,
    )
    from models.sentence_encoder import SentenceTransformerEncoder, weights_fingerprint
    from service.settings import Settings

    unknown = [v for v in variant if v not in VARIANTS]
    if unknown:
        raise fail(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    if quantization != "auto" and quantization not in QUANTIZATION_CONFIGS:
        raise fail(
            f"unknown quantization {quantization!r}; choose from auto, {list(QUANTIZATION_CONFIGS)}"
        )
    target = quantization_target() if quantization == "auto" else cast(QuantTarget, quantization)
    settings = Settings()
    torch_encoder = SentenceTransformerEncoder(settings.encoder_path, name=settings.encoder_name)
    torch_encoder.load()
    texts = probe_texts()
    typer.echo(f"exporting {torch_encoder.model_id} ({', '.join(variant)}; int8 config {target})")
    written = export_encoder(
        torch_encoder.path,
        out or settings.encoder_export_dir,
        model_id=torch_encoder.model_id,
        source_fingerprint=weights_fingerprint(torch_encoder.path),
        dimension=torch_encoder.dimension,
        probe_texts=texts,
        reference=torch_encoder.encode(texts),
        variants=[cast(Variant, v) for v in variant],
        target=target,
    )
    for name, folder in written.items():
        typer.echo(f"{name}: {folder}")
