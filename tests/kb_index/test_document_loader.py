"""Ingest of Markdown, HTML, plain text and JSONL files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb_index.document_loader import load_documents, load_file
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
from models.errors import InvalidInputError


def test_markdown_front_matter_sets_id_title_url_tags_and_visibility(tmp_path: Path) -> None:
    path = tmp_path / "refunds.md"
    path.write_text(
        "---\nid: hc-refunds\ntitle: When will I get my refund?\nurl: https://x.example/r\n"
        "tags: [refunds, payments]\nvisibility: internal\n---\n# When will I get my refund?\n\n"
        "Within 3 business days.\n",
        encoding="utf-8",
    )
    [document] = load_file(path)
    assert document.id == "hc-refunds"
    assert document.title == "When will I get my refund?"
    assert document.url == "https://x.example/r"
    assert document.tags == ("refunds", "payments")
    assert document.visibility == "internal"
    assert document.text.startswith("# When will I get my refund?")
    assert "---" not in document.text


def test_markdown_without_front_matter_takes_id_from_path_and_title_from_h1(tmp_path: Path) -> None:
    folder = tmp_path / "help" / "returns"
    folder.mkdir(parents=True)
    (folder / "policy.md").write_text("# Our policy\n\n30 days.\n", encoding="utf-8")
    [document] = load_documents([tmp_path / "help"])
    assert document.id == "returns/policy"
    assert document.title == "Our policy"
    assert document.visibility == "public"


def test_html_is_flattened_with_headings_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "shipping.html"
    path.write_text(
        "<html><head><title>Shipping times</title>"
        '<link rel="canonical" href="https://x.example/shipping">'
        '<meta name="keywords" content="delivery, shipping"><style>p{}</style></head>'
        "<body><nav>Home | Help</nav><h1>Shipping times</h1><p>Standard takes 1&ndash;3 days.</p>"
        "<h2>Express</h2><ul><li>Next day</li><li>Before 14:00</li></ul>"
        "<script>var x = 1;</script></body></html>",
        encoding="utf-8",
    )
    [document] = load_file(path)
    assert document.id == "shipping"
    assert document.title == "Shipping times"
    assert document.url == "https://x.example/shipping"
    assert document.tags == ("delivery", "shipping")
    assert "## Express" in document.text
    assert "Standard takes 1–3 days." in document.text
    assert "- Next day" in document.text
    assert "var x" not in document.text and "Home | Help" not in document.text


def test_plain_text_uses_first_line_as_title(tmp_path: Path) -> None:
    path = tmp_path / "gift-cards.txt"
    path.write_text("Gift cards\n\nValid for two years.\n", encoding="utf-8")
    [document] = load_file(path)
    assert (document.id, document.title) == ("gift-cards", "Gift cards")
    assert "Valid for two years." in document.text


def test_jsonl_keeps_given_ids_and_optional_fields(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    records = [
        {"id": "A-17", "title": "Invoices", "text": "Download it in My orders."},
        {
            "id": "kb/42",
            "title": "Escalations",
            "text": "Team leads decide.",
            "url": "https://intra.example/42",
            "tags": ["agents"],
            "visibility": "internal",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    first, second = load_file(path)
    assert first.id == "A-17" and first.url is None and first.visibility == "public"
    assert second.id == "kb/42" and second.tags == ("agents",) and second.visibility == "internal"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "title": "t"}', "'text'"),
        ('{"id": "a", "title": "t", "text": "x", "visibility": "secret"}', "visibility"),
        ('{"id": "a", "title": "t", "text": "x", "colour": "red"}', "colour"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_jsonl_line_is_rejected_with_its_line_number(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "title": "t", "text": "x"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"bad\.jsonl:2") as error:
        load_file(path)
    assert message in str(error.value)


def test_duplicate_ids_across_files_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nid: same\n---\n# A\n\ntext\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\nid: same\n---\n# B\n\ntext\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="already came from"):
        load_documents([tmp_path])


def test_unsupported_file_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manual.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(InvalidInputError, match="unsupported file type"):
        load_file(path)


def test_sample_help_centre_covers_the_required_topics() -> None:
    documents = load_documents([SAMPLE_HELP_CENTRE_DIR])
    public = [d for d in documents if d.visibility == "public"]
    assert len(public) >= 30
    assert all(d.id.startswith(("hc-", "int-")) and d.url for d in documents)
    tags = {t for d in documents for t in d.tags}
    for topic in (
        "tracking", "delivery", "addresses", "cancellations", "fees", "returns", "refunds",
        "payments", "invoices", "account", "sign-in", "newsletter", "reviews", "complaints",
        "contact",
    ):  # fmt: skip
        assert topic in tags, topic
