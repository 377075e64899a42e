"""Typos in a message, corrected towards the words an intent model was trained on.

People type "can I teack my order" or "how do I edi my adress". The encoder's word
pieces split such a word into fragments ("tea", "##ck") that carry another meaning, and the
intent model then reads a cancellation or an account creation. On Bitext's held-out rows
tagged as containing spelling errors, a model trained on the rest got 5 of 170 wrong for
that reason alone (README "Intent classifier").

The correction is deliberately narrow, because a wrong correction is worse than a typo:
a word is changed only when it is not an English word (symspellpy's 82,765-word frequency
dictionary), not a word of the training texts, and not an inflection of either
("checkings", "withdrawals"); it must have at least three letters ("pto", "idk" and
"eft" are abbreviations, not typos); and its replacement is a training word at
Damerau-Levenshtein distance 1 (one letter dropped, added, replaced, or two swapped) of at
least four letters, the most frequent in the training texts when several qualify. The
domain vocabulary is the point: "teack" is one edit from "teach" and from "track", and
only the second is a word customers of a shop use. Training texts are typed by people too:
a training word that is not English and is one edit from a training word at least ten
times as frequent ("acount" 8 times, "account" 706 times in Bitext) is taken for a typo of
it, neither kept as a word nor offered as a correction.

symspellpy finds the candidates (its symmetric-delete index over the training words: a few
thousand words, small); the English word list only answers "is this a word", so it is read
into a set once per process.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from functools import cache
from importlib import resources

#: Letters-only runs: digits, order numbers and e-mail addresses are never touched.
_WORD = re.compile(r"[A-Za-z]+")
_INFLECTIONS = ("s", "es", "ed", "ing", "ings", "ly")
#: A typo shorter than this is more often an abbreviation ("pto", "idk", "dte").
MIN_TYPO_LETTERS = 3
#: Replacements shorter than this are function words ("to", "too", "up"): a three-letter
#: word one edit away from a longer non-word is usually not what was meant.
MIN_REPLACEMENT_LETTERS = 4
#: A training word that is not English and is one edit from a training word this many
#: times as frequent is a typo of it.
TYPO_RATIO = 10


@cache
def english_words() -> frozenset[str]:
    """symspellpy's English frequency dictionary as a set of lower-case words."""
    text = (
        resources.files("symspellpy")
        .joinpath("frequency_dictionary_en_82_765.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


def word_counts(texts: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Lower-case letter-only words of ``texts`` and how often each occurs (what
    :class:`SpellingCorrector` is built from; an intent artifact stores it)."""
    counts = Counter(word.lower() for text in texts for word in _WORD.findall(text))
    return dict(sorted(counts.items()))


class SpellingCorrector:
    """Corrects non-words one edit away from a training word. Thread-safe after
    construction (lookups only read the index)."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        from symspellpy import SymSpell

        counts = {w: int(c) for w, c in vocabulary.items() if c > 0}
        self._known = english_words()
        self._index = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
        for word, count in counts.items():
            if len(word) >= MIN_REPLACEMENT_LETTERS:
                self._index.create_dictionary_entry(word, count)
        # Training texts have typos of their own ("acount" 8 times beside "account" 706):
        # such a word is neither a word to keep nor one to correct towards. (Found before
        # any is excluded: a typo cannot be ten times as frequent as another typo's word.)
        self._typos: frozenset[str] = frozenset()
        self._typos = frozenset(
            word
            for word, count in counts.items()
            if len(word) >= MIN_TYPO_LETTERS
            and word not in self._known
            and self._nearest(word, min_count=TYPO_RATIO * count) is not None
        )
        self._words = frozenset(counts) - self._typos

    def _nearest(self, word: str, *, min_count: int = 1) -> str | None:
        """The most frequent training word one edit from ``word`` (not a typo itself)."""
        from symspellpy import Verbosity

        for found in self._index.lookup(word, Verbosity.ALL, max_edit_distance=1):
            if found.distance == 1 and found.count >= min_count and found.term not in self._typos:
                return str(found.term)
        return None

    def _known_or_trained(self, word: str) -> bool:
        return word in self._known or word in self._words

    def _is_word(self, word: str) -> bool:
        """A word, a training word, or an inflection of either."""
        return self._known_or_trained(word) or any(
            word.endswith(suffix) and self._known_or_trained(word[: -len(suffix)])
            for suffix in _INFLECTIONS
        )

    def _replace(self, match: re.Match[str]) -> str:
        word = match.group(0)
        key = word.lower()
        if len(key) < MIN_TYPO_LETTERS or self._is_word(key):
            return word
        return self._nearest(key) or word

    def correct(self, text: str) -> str:
        """``text`` with its typos replaced (lower case); unchanged text is returned as is."""
        return _WORD.sub(self._replace, text)
