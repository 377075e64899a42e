"""The per-passage cache returns what the uncached functions compute."""

from __future__ import annotations

from kb_index.lexical_retriever import tokenize
from service.drafting.passage_cache import passage_plain_text, passage_sentences, sentence_words
from service.drafting.passage_text import plain_text, split_sentences

ARTICLE = """# Returns

You can return items within 30 days. Refunds take 5 to 7 days.

- Gift cards.
- Items marked final sale.

| Country | Cost |
|---|---|
| Germany | free |
"""


def test_cached_passage_analysis_equals_the_direct_one() -> None:
    assert passage_sentences(ARTICLE) == tuple(split_sentences(ARTICLE))
    assert passage_plain_text(ARTICLE) == plain_text(ARTICLE)
    sentence = passage_sentences(ARTICLE)[0].text
    assert sentence_words(sentence) == frozenset(tokenize(sentence))
    # A second call is served from the cache, and still equal.
    hits = passage_sentences.cache_info().hits
    assert passage_sentences(ARTICLE) == tuple(split_sentences(ARTICLE))
    assert passage_sentences.cache_info().hits == hits + 1


def test_an_edited_article_is_a_new_entry() -> None:
    edited = ARTICLE.replace("30 days", "14 days")
    assert "14 days" in passage_plain_text(edited)
    assert "30 days" in passage_plain_text(ARTICLE)
