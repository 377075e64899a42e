"""A disk cache of sentence embeddings for urgency training and evaluation.

Calibrating the emergency threshold and measuring false alarms reads thousands of public
messages (Bitext, CLINC150); on two shared cores the encoder is the slow part, so vectors
are kept per encoder id and text in one ``.npz`` file and only new texts are encoded.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.protocols import Encoder

logger = logging.getLogger(__name__)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """An ``Encoder`` that keeps the vectors of the encoder it wraps, keyed by text hash.

    ``folder=None`` keeps them in memory only.
    """

    def __init__(self, encoder: Encoder, folder: Path | None) -> None:
        self.encoder = encoder
        safe = hashlib.sha1(encoder.model_id.encode("utf-8")).hexdigest()[:16]
        self.path = folder / f"embeddings-{safe}.npz" if folder is not None else None
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}
        if self.path is not None and self.path.exists():
            with np.load(self.path) as data:
                keys, vectors = data["keys"], data["vectors"]
            self._vectors = {str(k): v for k, v in zip(keys, vectors, strict=True)}

    @property
    def model_id(self) -> str:
        """The wrapped encoder's id: cached vectors are its vectors."""
        return self.encoder.model_id

    @property
    def dimension(self) -> int:
        """The wrapped encoder's dimension."""
        return self.encoder.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = 256) -> npt.NDArray[np.float32]:
        """Vectors of ``texts`` in order; new ones are encoded and saved."""
        missing = sorted({t for t in texts if _key(t) not in self._vectors})
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            for text, vec in zip(chunk, self.encoder.encode(chunk), strict=True):
                self._vectors[_key(text)] = vec.astype(np.float32)
            logger.info(
                "encoded %d/%d new texts", min(start + batch_size, len(missing)), len(missing)
            )
        if missing:
            self._save()
        dim = self.encoder.dimension
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self._vectors[_key(t)] for t in texts]).astype(np.float32)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype="U40")
        vectors = np.stack(list(self._vectors.values()))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self.path)
