"""Importing tickets: cleaning, mapping, dropping, and files `triage train` can read."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from models.errors import InvalidInputError
from models.language_detector import LanguageDetector
from models.message_analyzer import MessageAnalyzer
from tests.fixtures.ticket_exports import GENERIC_COLUMNS, SAMPLES, TICKETS, WEB_CHAT_COLUMNS
from training.datasets import read_labelled_csv
from training.ticket_import import (
    OUTPUT_COLUMNS,
    DropReason,
    ImportReport,
    TicketImporter,
    urgency_examples_from_csv,
    write_drop_report,
    write_training_csv,
)
from training.ticket_mapping import TicketMapping
from training.ticket_readers import ExportFormat, read_tickets


@pytest.fixture(scope="module")
def language() -> LanguageDetector:
    return LanguageDetector(supported=("en",)).load()


@pytest.fixture(scope="module")
def mapping() -> TicketMapping:
    return TicketMapping.from_file(TICKETS / "mapping.yaml")


def run_import(
    path: Path,
    export_format: ExportFormat,
    mapping: TicketMapping,
    language: LanguageDetector | None,
    *,
    keep_unmapped: bool = False,
    columns: list[str] | None = None,
) -> ImportReport:
    importer = TicketImporter(
        mapping, analyzer=MessageAnalyzer(), language=language, keep_unmapped=keep_unmapped
    )
    tickets = read_tickets(path, export_format=export_format, columns=columns)
    return importer.import_tickets(tickets, source=path.name)


@pytest.fixture(scope="module")
def zendesk(mapping: TicketMapping, language: LanguageDetector) -> ImportReport:
    return run_import(TICKETS / "zendesk_api.json", "zendesk", mapping, language)


def test_html_quoted_thread_and_signature_are_stripped(zendesk: ImportReport) -> None:
    kept = {t.id: t for t in zendesk.kept}
    html_mail = kept["101"].text
    assert "My broadband has been down since 7am and the router light is red." in html_mail
    assert html_mail.startswith("Internet down")  # "Re:" removed from the subject
    assert "<" not in html_mail and "&lt;" not in html_mail
    assert "invoice" not in html_mail  # the agent's quoted reply
    assert "Elm Grove" not in html_mail and "07700" not in html_mail  # signature
    plain = kept["102"].text
    assert plain == "Wrong bill\nYou charged me for international calls I never made."


def test_each_drop_reason_is_reported_once_in_order(zendesk: ImportReport) -> None:
    assert [t.id for t in zendesk.kept] == ["101", "102"]
    dropped = {d.id: (d.reason, d.detail) for d in zendesk.dropped}
    assert dropped == {
        "103": (DropReason.SPAM, "tag 'spam'"),
        "104": (DropReason.LANGUAGE, "de"),
        "105": (DropReason.NO_MAPPING, "broadband"),
        "106": (DropReason.EMPTY, ""),
        "107": (DropReason.DUPLICATE, "same text as 101"),
    }
    assert zendesk.drop_counts() == {
        "spam": 1,
        "empty_after_cleaning": 1,
        "language": 1,
        "no_mapping": 1,
        "duplicate": 1,
    }
    assert zendesk.dropped_languages() == {"de": 1}
    assert zendesk.summary()["read"] == 7


def test_labels_categories_and_urgency_come_from_the_mapping(zendesk: ImportReport) -> None:
    kept = {t.id: t for t in zendesk.kept}
    assert (kept["101"].label, kept["101"].category, kept["101"].urgency) == (
        "internet_down",
        "NETWORK",
        "critical",
    )
    # Tagged billing and cancellation: the earlier rule (cancel_contract) wins.
    assert (kept["102"].label, kept["102"].category) == ("cancel_contract", "CONTRACT")
    assert kept["102"].urgency == ""  # no priority in the export
    assert kept["101"].language == "en"
    assert kept["101"].channel == "email"


def test_unmapped_tickets_can_be_kept_unlabelled(
    mapping: TicketMapping, language: LanguageDetector
) -> None:
    report = run_import(
        TICKETS / "zendesk_api.json", "zendesk", mapping, language, keep_unmapped=True
    )
    kept = {t.id: t for t in report.kept}
    assert kept["105"].label == "" and kept["105"].text.endswith("stuck on the loading screen.")
    assert report.drop_counts()["no_mapping"] == 0
    assert report.label_counts()[""] == 1


def test_without_a_language_detector_other_languages_are_kept(mapping: TicketMapping) -> None:
    report = run_import(TICKETS / "zendesk_api.json", "zendesk", mapping, None)
    german = next(t for t in report.kept if t.id == "104")
    assert german.label == "internet_down" and german.language == ""


def test_freshdesk_spam_flag_signature_and_priority_codes(
    mapping: TicketMapping, language: LanguageDetector
) -> None:
    report = run_import(TICKETS / "freshdesk_api.json", "freshdesk", mapping, language)
    kept = {t.id: t for t in report.kept}
    assert kept["401"].text == (
        "Payment failed\nHello, My card payment was declined but there is money on the card."
    )
    assert (kept["401"].label, kept["401"].urgency, kept["401"].channel) == (
        "payment_method",
        "high",
        "chat",
    )
    assert (kept["403"].label, kept["403"].urgency) == ("technician_visit", "critical")
    assert kept["404"].label == "upgrade_plan"
    assert report.dropped == (
        type(report.dropped[0])("402", DropReason.SPAM, "marked as spam in the helpdesk"),
    )


def test_generic_csv_with_custom_priorities(
    mapping: TicketMapping, language: LanguageDetector
) -> None:
    report = run_import(TICKETS / "generic.csv", "csv", mapping, language, columns=GENERIC_COLUMNS)
    kept = {t.id: t for t in report.kept}
    assert (kept["WF-1"].label, kept["WF-1"].urgency) == ("cancel_contract", "normal")
    assert (kept["CH-2"].label, kept["CH-2"].urgency) == ("internet_down", "critical")
    assert [(d.id, d.reason) for d in report.dropped] == [("CH-3", DropReason.NO_MAPPING)]


def test_written_csv_is_what_triage_train_reads(zendesk: ImportReport, tmp_path: Path) -> None:
    out = tmp_path / "data.csv"
    write_training_csv(zendesk, out)
    with out.open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(OUTPUT_COLUMNS)
    data = read_labelled_csv(
        out, text_column="text", label_column="label", category_column="category"
    )
    assert data.labels == ("internet_down", "cancel_contract")
    assert data.categories == {"internet_down": "NETWORK", "cancel_contract": "CONTRACT"}
    assert data.texts[0].startswith("Internet down\n")
    dropped = tmp_path / "dropped.csv"
    write_drop_report(zendesk, dropped)
    with dropped.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"]: r["reason"] for r in rows}["104"] == "language"
    assert all(set(r) == {"id", "reason", "detail"} for r in rows)


def test_urgency_examples_get_a_stable_stratified_split(tmp_path: Path) -> None:
    path = tmp_path / "imported.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "urgency", "channel"])
        writer.writeheader()
        for i in range(40):
            level = ("low", "normal", "high", "critical")[i % 4]
            writer.writerow(
                {"id": f"t{i}", "text": f"message {i}", "urgency": level, "channel": "email"}
            )
        writer.writerow({"id": "none", "text": "no priority", "urgency": "", "channel": "chat"})
    examples = urgency_examples_from_csv(path)
    assert len(examples) == 40
    for level in ("low", "normal", "high", "critical"):
        splits = [e.split for e in examples if e.level == level]
        assert splits.count("test") == 2 and splits.count("train") == 8
    assert [e.split for e in urgency_examples_from_csv(path)] == [e.split for e in examples]
    assert {e.kind for e in examples} == {"email"}


def test_urgency_examples_refuse_unknown_levels_and_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,text,urgency\n1,hello,asap\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="unknown urgency levels \\['asap'\\]"):
        urgency_examples_from_csv(path)
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no column urgency"):
        urgency_examples_from_csv(path)


_LEFTOVERS = re.compile(
    r"<[a-z/][^>]*>|&[a-z]+;|\bwrote:|Sent from my|Get Outlook|Kind regards", re.I
)


@pytest.mark.parametrize(
    ("file", "export_format", "columns"),
    [
        ("zendesk_tickets.json", "zendesk", None),
        ("zendesk_tickets.csv", "zendesk", None),
        ("freshdesk_tickets.json", "freshdesk", None),
        (
            "web_chat_tickets.csv",
            "csv",
            WEB_CHAT_COLUMNS,
        ),
    ],
)
def test_sample_exports_import_cleanly(
    file: str, export_format: ExportFormat, columns: list[str] | None, language: LanguageDetector
) -> None:
    """The committed Northwave exports: >= 200 tickets, every intent, every drop reason."""
    sample_mapping = TicketMapping.from_file(SAMPLES / "mapping.yaml")
    report = run_import(SAMPLES / file, export_format, sample_mapping, language, columns=columns)
    assert report.total >= 200
    labels = report.label_counts()
    assert len(labels) == 12 and min(labels.values()) >= 10, labels
    counts = report.drop_counts()
    for reason in ("spam", "language", "no_mapping", "duplicate"):
        assert counts[reason] > 0, reason
    assert not report.unmapped_priorities
    for t in report.kept:
        assert not _LEFTOVERS.search(t.text), (t.id, t.text)
