"""What drafting derives from a knowledge-base passage, computed once per passage text.

Rendering a help-centre article to plain text, splitting it into sentences, and each
sentence's comparison key and stemmed words are pure functions of the article's text, yet
they cost a suggestion about 5 ms for three passages. The same few dozen articles are
quoted over and over, so these results are kept in small LRU caches keyed by the text
itself: an edited article has another text, so nothing goes stale. The sentence vectors
are cached by ``sentence_selector.EmbeddingCache``, so after its first use an article costs
a suggestion no encoder work: only the message is encoded.

Only knowledge-base text goes through here; customer messages and earlier agent replies
are never cached (they are personal and rarely repeat).
"""

from __future__ import annotations

from functools import lru_cache

from kb_index.lexical_retriever import tokenize
from service.drafting.passage_text import PassageSentence, plain_text, split_sentences

#: Passages (whole articles or matched chunks) and sentences kept; a help centre of a few
#: hundred articles fits, at a few MB.
MAX_PASSAGES = 2_048
MAX_SENTENCES = 32_768


@lru_cache(maxsize=MAX_PASSAGES)
def passage_sentences(passage: str) -> tuple[PassageSentence, ...]:
    """``split_sentences(passage)``, computed once per passage text."""
    return tuple(split_sentences(passage))


@lru_cache(maxsize=MAX_PASSAGES)
def passage_plain_text(passage: str) -> str:
    """``plain_text(passage)``, computed once per passage text."""
    return plain_text(passage)


@lru_cache(maxsize=MAX_SENTENCES)
def sentence_words(sentence: str) -> frozenset[str]:
    """The stemmed, stop-word-free words of a passage sentence (BM25's tokens)."""
    return frozenset(tokenize(sentence))
