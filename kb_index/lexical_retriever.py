"""Lexical chunk search: BM25 (``bm25s``) over stemmed, stop-word-free tokens.

BM25 statistics (document frequencies, average length) depend on the whole corpus, so
the index is rebuilt on every write; that costs tokenisation only, no embeddings, and
takes seconds even at 100k chunks. Rows are shared with the dense retriever: a deleted
row is indexed as an empty token list and masked out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

from models.errors import ArtifactError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Short on purpose: customers' questions are short, and words like "not", "can",
# "when" or "how" carry meaning in support questions, so they are kept.
_STOPWORD_TEXT = """a an and are as at be been being but by do does did for from had has have i i'm
    i've if in into is it it's its me my of on or our so than that the their them then
    there these they this to too us was we were what which who will with would you your
    you're am im ive id"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_ROWS_FILE = "rows.json"


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stop words."""
    words = [w.replace("'", "") for w in _TOKEN.findall(text.lower())]
    words = [w for w in words if w and w not in STOPWORDS]
    return list(_stemmer().stemWords(words))


class LexicalRetriever:
    """BM25 scores of every row for a query; deleted rows (``None`` texts) never match."""

    def __init__(self, texts: Sequence[str | None], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.rows = len(texts)
        self.alive = np.array([t is not None for t in texts], dtype=bool)
        self._model: bm25s.BM25 | None = None
        if self.alive.any():
            corpus = [tokenize(t) if t is not None else [] for t in texts]
            model = bm25s.BM25(k1=k1, b=b)
            model.index(corpus, show_progress=False)
            self._model = model

    @classmethod
    def _restored(
        cls, model: bm25s.BM25 | None, alive: BoolArray, k1: float, b: float
    ) -> LexicalRetriever:
        retriever = cls.__new__(cls)
        retriever.k1 = k1
        retriever.b = b
        retriever.rows = len(alive)
        retriever.alive = alive
        retriever._model = model
        return retriever

    def scores(self, query: str) -> FloatArray:
        """BM25 score of every row (0 for deleted rows and rows sharing no term)."""
        tokens = tokenize(query)
        if self._model is None or not tokens:
            return np.zeros(self.rows, dtype=np.float32)
        vocab = self._model.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(self.rows, dtype=np.float32)
        scores = np.asarray(self._model.get_scores(known), dtype=np.float32)
        return np.where(self.alive, scores, np.float32(0.0)).astype(np.float32)

    def search(
        self, query: str, *, k: int, allowed: BoolArray | None = None
    ) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Top-``k`` rows with a positive score, best first."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, np.float32(0.0))
        return top_positive(scores, k)

    def save(self, folder: Path) -> None:
        """Write the BM25 state into ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"k1": self.k1, "b": self.b, "alive": self.alive.astype(int).tolist()}
        (folder / _ROWS_FILE).write_text(json.dumps(meta), encoding="utf-8")
        if self._model is not None:
            self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalRetriever:
        """Read what :meth:`save` wrote."""
        try:
            meta = json.loads((folder / _ROWS_FILE).read_text(encoding="utf-8"))
            alive = np.asarray(meta["alive"], dtype=bool)
            model = None
            if alive.any():
                model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        except (OSError, KeyError, ValueError) as exc:
            raise ArtifactError(f"{folder}: unreadable BM25 state ({exc})") from exc
        return cls._restored(model, alive, float(meta["k1"]), float(meta["b"]))


def top_positive(scores: FloatArray, k: int) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Indices and values of the ``k`` largest positive scores, best first."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    values = scores[positive]
    k = min(k, len(positive))
    top = np.argpartition(-values, k - 1)[:k]
    order = top[np.argsort(-values[top], kind="stable")]
    return positive[order].astype(np.int64), values[order].astype(np.float32)
