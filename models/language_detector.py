"""Language of a message, with lingua (offline n-gram models, strong on short texts).

Measured with ``bench/language_detectors.py`` on short support messages: lingua (these
languages, plus the guard below) 100% on ``language_check.jsonl`` (62 messages, 13
languages; the guard was tuned on it) and 96.7% on ``language_holdout.jsonl`` (30
messages, 15 languages, written afterwards); langdetect got 84% and 70%, failing mostly on
two- or three-word English lines such as "refund pls". lingua is deterministic (no random
sampling, unlike langdetect) and loads its models from the installed wheel. Short ASCII
texts where English is a close runner-up are read as English, since nearly all traffic is
English and a false "unsupported" costs more than a missed foreign one-liner.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from models.errors import ArtifactError

if TYPE_CHECKING:
    from lingua import LanguageDetector as _LinguaDetector

# Languages the detector tells apart; more cost memory (~20 MB each) and load time.
DEFAULT_LANGUAGES: Final = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "sv",
    "da",
    "tr",
    "ru",
    "uk",
    "ja",
    "zh",
    "ko",
    "ar",
    "ro",
    "cs",
    "el",
]
UNDETERMINED: Final = "und"
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
_SHORT_WORDS = 5
_ENGLISH_RATIO = 0.5
_SHORT_MIN_CONFIDENCE = 0.35


@dataclass(frozen=True)
class LanguageGuess:
    """Detected language (ISO 639-1, or ``und``) and whether the models support it."""

    code: str
    confidence: float
    supported: bool


class LanguageDetector:
    """lingua-based detector; construction validates, ``load()`` reads the models."""

    name = "lingua"

    def __init__(
        self,
        *,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
        supported: Sequence[str] = ("en",),
    ) -> None:
        codes = [c.lower() for c in languages]
        if "en" not in codes:
            raise ValueError("the detector must know English")
        missing = [c for c in supported if c.lower() not in codes]
        if missing:
            raise ValueError(f"supported languages {missing} are not among the detected ones")
        self.languages = tuple(codes)
        self.supported = frozenset(c.lower() for c in supported)
        self._detector: _LinguaDetector | None = None
        self._lock = threading.Lock()

    def load(self) -> LanguageDetector:
        """Build the lingua detector with its models preloaded; idempotent."""
        with self._lock:
            if self._detector is not None:
                return self
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            try:
                langs = [
                    Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper()))
                    for c in self.languages
                ]
            except AttributeError as exc:
                raise ArtifactError(f"lingua does not know language {exc}") from exc
            self._detector = (
                LanguageDetectorBuilder.from_languages(*langs)
                .with_preloaded_language_models()
                .build()
            )
        return self

    @property
    def version(self) -> str:
        """Identifier for the readiness probe."""
        from importlib.metadata import version

        return f"{self.name}@{version('lingua-language-detector')}"

    def detect(self, text: str) -> LanguageGuess:
        """Language of ``text``; ``und`` (and supported) when there are no letters."""
        words = _LETTERS.findall(text)
        if not words:
            return LanguageGuess(UNDETERMINED, 0.0, True)
        if self._detector is None:
            self.load()
        assert self._detector is not None
        values = self._detector.compute_language_confidence_values(" ".join(words))
        if not values:
            return LanguageGuess(UNDETERMINED, 0.0, True)
        top = values[0]
        code = top.language.iso_code_639_1.name.lower()
        confidence = float(top.value)
        if code != "en" and len(words) <= _SHORT_WORDS and text.isascii():
            english = next(
                (float(v.value) for v in values if v.language.iso_code_639_1.name == "EN"), 0.0
            )
            if confidence < _SHORT_MIN_CONFIDENCE or english >= _ENGLISH_RATIO * confidence:
                code, confidence = "en", english
        return LanguageGuess(code, round(confidence, 4), code in self.supported)
