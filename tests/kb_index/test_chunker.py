"""Chunking by headings and paragraphs, with a size limit, overlap and exact offsets."""

from __future__ import annotations

import itertools

from kb_index.chunker import Chunker
from kb_index.document_loader import load_documents
from kb_index.documents import KbDocument
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR


def test_every_chunk_is_the_document_text_between_its_offsets() -> None:
    chunker = Chunker(max_chars=400, overlap_chars=80)
    for document in load_documents([SAMPLE_HELP_CENTRE_DIR]):
        chunks = chunker.split(document)
        assert chunks, document.id
        for chunk in chunks:
            assert document.text[chunk.start : chunk.end] == chunk.text
            assert chunk.doc_id == document.id and chunk.title == document.title
            assert chunk.url == document.url
            assert len(chunk.text) <= 400


def test_chunks_follow_headings_and_keep_the_heading_path() -> None:
    document = KbDocument(
        id="returns",
        title="Returns",
        text="# Returns\n\nIntro.\n\n## Costs\n\nFree here.\n\n### Abroad\n\n6.95 euro.\n\n"
        "## Exceptions\n\nGift cards.",
    )
    chunks = Chunker().split(document)
    assert [c.heading_path for c in chunks] == [
        (),
        ("Costs",),
        ("Costs", "Abroad"),
        ("Exceptions",),
    ]
    assert chunks[2].heading == "Costs > Abroad"
    assert chunks[2].text == "### Abroad\n\n6.95 euro."


def test_long_sections_are_split_with_overlap_within_the_limit() -> None:
    sentences = [f"Sentence number {i} explains one more detail of the policy." for i in range(60)]
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, 60, 4)]
    document = KbDocument(id="long", title="Long", text="\n\n".join(paragraphs))
    chunker = Chunker(max_chars=500, overlap_chars=120)
    chunks = chunker.split(document)
    assert len(chunks) > 3
    for previous, current in itertools.pairwise(chunks):
        assert len(current.text) <= 500
        assert current.start < previous.end, "consecutive chunks should overlap"
        assert previous.end - current.start <= 120
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(document.text) if not ch.isspace())


def test_a_paragraph_longer_than_the_limit_is_cut_at_sentences() -> None:
    text = " ".join(f"Short sentence {i} here." for i in range(100))
    document = KbDocument(id="one-paragraph", title="One paragraph", text=text)
    chunks = Chunker(max_chars=200, overlap_chars=40).split(document)
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(c.text.startswith("Short sentence") for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_headings_inside_code_fences_are_not_headings() -> None:
    document = KbDocument(
        id="code", title="Code", text="Intro.\n\n```\n# not a heading\n```\n\n## Real\n\nBody."
    )
    paths = [c.heading_path for c in Chunker().split(document)]
    assert paths == [(), ("Real",)]
