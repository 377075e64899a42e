"""The ONNX encoder backends against the PyTorch reference, and the factory's checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.encoder_export import QUANTIZATION_CONFIGS, quantization_target
from models.encoder_factory import DEFAULT_EXPORT_DIR, build_encoder, export_folder
from models.errors import ArtifactError
from models.onnx_encoder import OnnxEncoder, length_buckets

REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    "refund pls",
    "Where is my order #4411829? It has been nine days.",
    "Hello,\n\nI was charged twice for the same jacket. Please refund one of the payments.\n\nTom",
    # Longer than the 256 word pieces the model reads: truncated the same way.
    " ".join(["My parcel was left at the wrong address and the courier will not answer."] * 40),
]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build's export (``make install``), or a fresh one when there is none."""
    if (export_folder("onnx-int8") / "manifest.json").is_file():
        return DEFAULT_EXPORT_DIR
    from training.encoder_commands import export

    out = tmp_path_factory.mktemp("encoders")
    export(out=out, variant=["onnx-fp32", "onnx-int8"], quantization="auto")
    return out


def test_length_buckets_keep_similar_lengths_together() -> None:
    lengths = [5, 300, 6, 7, 250, 12, 40]
    chunks = length_buckets(lengths, batch_size=3)
    assert sorted(i for c in chunks for i in c) == list(range(len(lengths)))
    assert all(len(c) <= 3 for c in chunks)
    # No chunk mixes a chat line with an e-mail.
    assert all(
        max(lengths[i] for i in c) <= 2 * max(min(lengths[i] for i in c), 16) for c in chunks
    )


def test_quantization_config_follows_the_cpu_flags() -> None:
    assert quantization_target(frozenset({"avx2", "avx512bw", "avx512_vnni"})) in {
        "avx512_vnni",
        "arm64",
    }
    if quantization_target(frozenset()) != "arm64":
        assert quantization_target(frozenset({"avx2", "avx512bw"})) == "avx512"
        assert quantization_target(frozenset({"avx2"})) == "avx2"
    assert not QUANTIZATION_CONFIGS["avx2"].signed_weights
    assert QUANTIZATION_CONFIGS["avx512_vnni"].signed_weights


def test_export_folder_without_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="triage encoder export"):
        OnnxEncoder(tmp_path)


@pytest.mark.encoder
def test_onnx_fp32_reproduces_the_torch_vectors(export_dir: Path, real_encoder) -> None:  # type: ignore[no-untyped-def]
    onnx = build_encoder("onnx", export_dir=export_dir)
    cosine = (onnx.encode(TEXTS) * real_encoder.encode(TEXTS)).sum(axis=1)
    assert cosine.min() > 0.9999
    assert onnx.model_id == f"{real_encoder.model_id}+onnx-fp32"
    assert onnx.dimension == real_encoder.dimension == 384


@pytest.mark.encoder
def test_onnx_int8_stays_close_to_torch(export_dir: Path, real_encoder) -> None:  # type: ignore[no-untyped-def]
    int8 = build_encoder("onnx-int8", export_dir=export_dir)
    vectors = int8.encode(TEXTS)
    cosine = (vectors * real_encoder.encode(TEXTS)).sum(axis=1)
    assert cosine.mean() > 0.98
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert int8.model_id.startswith(f"{real_encoder.model_id}+onnx-int8-")
    # Batching and padding do not change a text's vector.
    alone = np.vstack([int8.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(alone, vectors, atol=1e-5)
    assert int8.encode([]).shape == (0, 384)


@pytest.mark.encoder
def test_export_made_from_other_weights_is_refused(export_dir: Path, tmp_path: Path) -> None:
    stale = tmp_path / "exports"
    shutil.copytree(export_folder("onnx", export_dir), stale / "onnx-fp32")
    manifest_path = stale / "onnx-fp32" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["params"]["source_fingerprint"] = "0000000000000000"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="triage encoder export"):
        build_encoder("onnx", export_dir=stale)


@pytest.mark.encoder
def test_onnx_backend_serves_without_importing_torch(export_dir: Path) -> None:
    script = (
        "import sys, pathlib;"
        "from models.encoder_factory import build_encoder;"
        f"e = build_encoder('onnx-int8', export_dir=pathlib.Path({str(export_dir)!r}));"
        "e.encode(['where is my order']);"
        "from models.language_detector import LanguageDetector;"
        "LanguageDetector().load().detect('where is my order');"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'lingua')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"
