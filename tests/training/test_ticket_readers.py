"""Each helpdesk export format is read into the same ticket shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import InvalidInputError
from tests.fixtures.ticket_exports import GENERIC_COLUMNS, TICKETS
from training.ticket_readers import parse_column_options, read_tickets


def test_zendesk_api_json_reads_every_field() -> None:
    tickets = read_tickets(TICKETS / "zendesk_api.json", export_format="zendesk")
    assert [t.id for t in tickets] == ["101", "102", "103", "104", "105", "106", "107"]
    first = tickets[0]
    assert first.subject == "Re: Internet down"
    assert first.body.startswith('<div dir="ltr">')
    assert first.tags == ("outage", "vip")
    assert first.priority == "urgent"
    assert first.status == "solved"
    assert first.channel == "email"
    assert first.type == "incident"
    assert first.created_at == "2025-03-04T09:12:00Z"
    assert tickets[1].priority == ""  # null priority
    assert tickets[1].channel == "web"
    assert tickets[2].channel == "chat"
    assert not any(t.spam for t in tickets)  # Zendesk has no spam flag; tags decide


def test_zendesk_json_lines_with_and_without_ticket_wrapper() -> None:
    tickets = read_tickets(TICKETS / "zendesk_export.jsonl", export_format="zendesk")
    assert [(t.id, t.channel, t.tags) for t in tickets] == [
        ("201", "phone", ("no_signal",)),
        ("202", "social", ("travel",)),
    ]


def test_zendesk_csv_export_splits_tags_on_spaces_and_reads_dashes_as_empty() -> None:
    tickets = read_tickets(TICKETS / "zendesk_export.csv", export_format="zendesk")
    assert [t.id for t in tickets] == ["301", "302", "303"]
    assert tickets[0].tags == ("slow_speed", "broadband")
    assert tickets[0].body.startswith("I'm paying for 500Mb")
    assert tickets[0].priority == "high"
    assert tickets[0].channel == "email"
    assert tickets[1].priority == ""
    assert tickets[1].type == ""
    assert tickets[1].channel == "web"
    assert tickets[2].tags == ()
    assert tickets[2].channel == "chat"


def test_freshdesk_api_json_translates_codes_and_prefers_the_html_description() -> None:
    tickets = read_tickets(TICKETS / "freshdesk_api.json", export_format="freshdesk")
    payment, spam, engineer, upgrade = tickets
    assert payment.body.startswith("<div>Hello,</div>")
    assert (payment.priority, payment.status, payment.channel) == ("high", "resolved", "chat")
    assert payment.type == "Payment"
    assert spam.spam is True
    assert spam.priority == "low"
    assert engineer.body == "The engineer didn't turn up today and nobody called."
    assert (engineer.priority, engineer.status, engineer.channel) == ("urgent", "open", "phone")
    assert engineer.tags == ("engineer", "callback")
    # No type: the "category" custom field stands in.
    assert upgrade.type == "Upgrade"
    assert upgrade.channel == "web"


def test_freshdesk_csv_export_uses_names_and_comma_separated_tags() -> None:
    tickets = read_tickets(TICKETS / "freshdesk_export.csv", export_format="freshdesk")
    sim, wifi, spam = tickets
    assert sim.id == "501"
    assert sim.tags == ("sim", "vip")
    assert (sim.priority, sim.status, sim.channel, sim.type) == (
        "urgent",
        "resolved",
        "email",
        "SIM & Number",
    )
    assert wifi.channel == "web"
    assert spam.type == "Spam"


def test_generic_csv_reads_the_named_columns() -> None:
    tickets = read_tickets(TICKETS / "generic.csv", export_format="csv", columns=GENERIC_COLUMNS)
    cancel, down, hello = tickets
    assert (cancel.id, cancel.subject, cancel.body) == (
        "WF-1",
        "Cancel",
        "I want to cancel my contract.",
    )
    assert cancel.type == "Account - cancel contract"
    assert cancel.priority == "p3"
    assert cancel.channel == "web"
    assert down.channel == "chat"
    assert hello.channel == "chat"  # whatsapp


def test_generic_csv_without_the_named_columns_says_which_exist() -> None:
    with pytest.raises(InvalidInputError, match="the file has: Ref, Received"):
        read_tickets(TICKETS / "generic.csv", export_format="csv", columns=["id=Nope"])


def test_column_options_reject_unknown_fields_and_bad_syntax() -> None:
    with pytest.raises(InvalidInputError, match="unknown field 'body'"):
        parse_column_options(["body=Message"])
    with pytest.raises(InvalidInputError, match="use FIELD=HEADER"):
        parse_column_options(["text"])
    assert parse_column_options(["text=Message"])["text"] == ("Message",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ('{"results": []}', "expected a list of tickets or an object with a 'tickets' list"),
        ('{"id": 1}\n{not json', ":2: not valid JSON"),
        ('[{"subject": "no id"}]', "has no id"),
        ("[1, 2]", "ticket #0 is not a JSON object"),
    ],
)
def test_malformed_json_exports_are_rejected_with_the_place(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        read_tickets(path, export_format="zendesk")


def test_csv_format_refuses_a_json_file_and_column_options_elsewhere() -> None:
    with pytest.raises(InvalidInputError, match="this is JSON"):
        read_tickets(TICKETS / "zendesk_api.json", export_format="csv")
    with pytest.raises(InvalidInputError, match="--column applies to --format csv only"):
        read_tickets(TICKETS / "zendesk_api.json", export_format="zendesk", columns=["id=x"])


def test_non_utf8_csv_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Id,Subject\n1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_tickets(path, export_format="zendesk")
