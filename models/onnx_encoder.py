"""all-MiniLM-L6-v2 on ONNX Runtime: tokenizers + onnxruntime + numpy, no torch at serve time.

The graph is exported from the packaged weights by ``triage encoder export``
(``models/encoder_export.py``) into an artifact folder with ``model.onnx``,
``tokenizer.json`` and a manifest naming the source weights, the variant (``onnx-fp32`` or
``onnx-int8``) and the quantisation config. Pooling is done here exactly as the
sentence-transformers pipeline does it (mean over the attention mask, then L2 norm), with
the same 256-word-piece truncation, so the fp32 variant reproduces the PyTorch vectors
(cosine 1.0000 on the probe set recorded in the manifest).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.artifact_manifest import ArtifactManifest, read_manifest
from models.errors import ArtifactError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

ARTIFACT_TYPE = "onnx-encoder"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
#: Padding rows up to the longest text of a chunk wastes work; a chunk is closed when a
#: text is this many times longer than the chunk's shortest one.
_LENGTH_RATIO = 2.0
_MIN_BUCKET_TOKENS = 16

FloatArray = npt.NDArray[np.float32]


def length_buckets(lengths: Sequence[int], *, batch_size: int) -> list[list[int]]:
    """Positions of ``lengths`` grouped into chunks of similar length, shortest first.

    Each chunk holds at most ``batch_size`` texts, and a text more than twice as long as
    the chunk's shortest starts a new chunk, so one long e-mail does not pad thirty chat
    lines to its length.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    chunks: list[list[int]] = []
    for i in order:
        if chunks:
            chunk = chunks[-1]
            floor = max(lengths[chunk[0]], _MIN_BUCKET_TOKENS)
            if len(chunk) < batch_size and lengths[i] <= _LENGTH_RATIO * floor:
                chunk.append(i)
                continue
        chunks.append([i])
    return chunks


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """The word-piece tokenizer in ``path`` (a ``tokenizer.json``) as the encoder feeds it:
    truncated to ``max_length``, unpadded. Training code that tokenises for a graph served
    here uses it too, so both see the same ids."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    # The packaged tokenizer.json pads and truncates to 128; the model reads 256.
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


class OnnxEncoder:
    """Sentence encoder running an exported ONNX graph.

    Args:
        folder: an export folder written by ``triage encoder export``.
        intra_op_threads: ONNX Runtime's compute threads (the service sizes this to the
            machine; see ``models/thread_budget.py``).
        max_seq_length: word pieces per text, special tokens included (sentence-transformers
            uses 256 for this model).
    """

    def __init__(
        self,
        folder: Path | str,
        *,
        intra_op_threads: int = 1,
        max_seq_length: int = 256,
    ) -> None:
        self.folder = Path(folder)
        if intra_op_threads < 1:
            raise ValueError("intra_op_threads must be at least 1")
        if not (self.folder / "manifest.json").is_file():
            raise ArtifactError(
                f"{self.folder} holds no exported encoder; run `triage encoder export` "
                "(`make install` does)"
            )
        self.intra_op_threads = intra_op_threads
        self.max_seq_length = max_seq_length
        self.manifest: ArtifactManifest | None = None
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._inputs: frozenset[str] = frozenset()
        self._model_id: str | None = None
        self._dimension: int | None = None
        self._per_text = False
        self._lock = threading.Lock()

    def load(self) -> OnnxEncoder:
        """Verify the folder (checksums, type) and open the session; idempotent."""
        with self._lock:
            if self._session is not None:
                return self
            import onnxruntime as ort

            manifest = read_manifest(self.folder, expected_type=ARTIFACT_TYPE)
            if manifest.encoder is None:
                raise ArtifactError(f"{self.folder}: manifest names no source encoder")
            tokenizer = load_tokenizer(self.folder / TOKENIZER_FILE, self.max_seq_length)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.intra_op_threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Spinning workers would burn the cores the request threads need between batches.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(
                str(self.folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
            self._inputs = frozenset(i.name for i in session.get_inputs())
            variant = str(manifest.params.get("variant", manifest.version))
            self._model_id = f"{manifest.encoder.model_id}+{variant}"
            self._dimension = manifest.encoder.dimension
            # Dynamic quantisation scales activations per tensor: in a batch, the other
            # texts and the padding would change a text's vector (cosine 0.991 on average
            # to the same text alone, 0.967 at worst). One text per call keeps every
            # vector a function of its text alone, at about the same throughput.
            self._per_text = manifest.params.get("quantization") is not None
            self._tokenizer = tokenizer
            self.manifest = manifest
            self._session = session
            logger.info("loaded ONNX encoder %s from %s", self._model_id, self.folder)
        return self

    @property
    def model_id(self) -> str:
        """Source weights id plus the variant (``...-L6-v2@53aa+onnx-int8-avx512_vnni``)."""
        self._require()
        assert self._model_id is not None
        return self._model_id

    @property
    def backend(self) -> str:
        """The variant this folder holds (``onnx-fp32`` or ``onnx-int8-<config>``)."""
        return self.model_id.rpartition("+")[2]

    @property
    def per_text(self) -> bool:
        """Whether every call encodes one text at a time (the quantised variant: see
        ``load``), so batching callers together gains nothing."""
        self._require()
        return self._per_text

    @property
    def source_fingerprint(self) -> str:
        """Fingerprint of the weights the graph was exported from."""
        self._require()
        assert self.manifest is not None
        return str(self.manifest.params.get("source_fingerprint", ""))

    @property
    def dimension(self) -> int:
        """Embedding size (384)."""
        self._require()
        assert self._dimension is not None
        return self._dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> FloatArray:
        """Embed texts into L2-normalised float32 vectors."""
        session, tokenizer = self._require()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        chunks = (
            [[i] for i in range(len(texts))]
            if self._per_text
            else length_buckets(lengths, batch_size=max(batch_size, 1))
        )
        for chunk in chunks:
            width = max(lengths[i] for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                ids[row, : lengths[i]] = encodings[i].ids
                mask[row, : lengths[i]] = 1
            feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]
            out[chunk] = mean_pool(hidden, mask)
        return out

    def _require(self) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
        if self._session is None:
            self.load()
        assert self._session is not None and self._tokenizer is not None
        return self._session, self._tokenizer


def mean_pool(hidden: npt.NDArray[np.floating[Any]], mask: npt.NDArray[np.int64]) -> FloatArray:
    """Mean of the token vectors the mask keeps, L2-normalised (sentence-transformers' pooling
    and Normalize modules)."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return np.asarray(pooled / norms, dtype=np.float32)
