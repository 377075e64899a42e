"""Small protocols for the swappable parts of the models package."""

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 sentence embeddings."""

    @property
    def model_id(self) -> str:
        """Stable identifier written into every artifact built on this encoder."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each embedding vector."""
        ...

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Embed ``texts``; returns an array of shape ``(len(texts), dimension)``."""
        ...
