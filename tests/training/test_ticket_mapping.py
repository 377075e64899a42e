"""The mapping file: rule order, name matching, urgency levels, spam, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models.errors import InvalidInputError
from tests.fixtures.ticket_exports import SAMPLES, TICKETS
from training.ticket_mapping import TicketMapping
from training.ticket_readers import HelpdeskTicket


def ticket(**fields: Any) -> HelpdeskTicket:
    return HelpdeskTicket(id=str(fields.pop("id", "1")), subject="", body="x", **fields)


@pytest.fixture(scope="module")
def mapping() -> TicketMapping:
    return TicketMapping.from_file(TICKETS / "mapping.yaml")


def test_first_matching_rule_wins_in_file_order(mapping: TicketMapping) -> None:
    # "billing" (invoice_wrong, last rule) and "cancellation" (first rule): file order.
    both = ticket(tags=("billing", "cancellation"))
    rule = mapping.intent_for(both)
    assert rule is not None and rule.intent == "cancel_contract"
    reordered = TicketMapping.from_mapping(
        {
            "intents": [
                {"intent": "invoice_wrong", "tags": ["billing"]},
                {"intent": "cancel_contract", "tags": ["cancellation"]},
            ]
        }
    )
    rule = reordered.intent_for(both)
    assert rule is not None and rule.intent == "invoice_wrong"


def test_a_rule_matches_on_type_or_on_any_tag(mapping: TicketMapping) -> None:
    by_type = mapping.intent_for(ticket(type="Payment"))
    by_tag = mapping.intent_for(ticket(tags=("vip", "engineer")))
    assert by_type is not None and by_type.intent == "payment_method"
    assert by_type.category == "BILLING"
    assert by_tag is not None and by_tag.intent == "technician_visit"
    assert by_tag.category is None
    assert mapping.intent_for(ticket(tags=("vip",), type="Question")) is None


def test_names_match_ignoring_case_and_punctuation(mapping: TicketMapping) -> None:
    for tag in ("No Signal", "no-signal", "NO_SIGNAL", " no  signal "):
        rule = mapping.intent_for(ticket(tags=(tag,)))
        assert rule is not None and rule.intent == "no_signal", tag
    rule = mapping.intent_for(ticket(type="network - BROADBAND down"))
    assert rule is not None and rule.intent == "internet_down"


def test_priority_maps_to_urgency_with_defaults_and_overrides(mapping: TicketMapping) -> None:
    assert mapping.urgency_for("low") == "low"
    assert mapping.urgency_for("normal") == "normal"
    assert mapping.urgency_for("medium") == "normal"  # Freshdesk's name for normal
    assert mapping.urgency_for("high") == "high"
    assert mapping.urgency_for("urgent") == "critical"
    assert mapping.urgency_for("p1") == "critical"  # from the file
    assert mapping.urgency_for("P4") == "low"
    assert mapping.urgency_for("P2") is None  # not in the file, no default
    assert mapping.urgency_for("") is None


def test_urgency_defaults_can_be_replaced() -> None:
    custom = TicketMapping.from_mapping(
        {"intents": [{"intent": "a", "tags": ["a"]}], "urgency": {"urgent": "high"}}
    )
    assert custom.urgency_for("urgent") == "high"


def test_spam_comes_from_the_helpdesk_flag_or_drop_tags_and_types(mapping: TicketMapping) -> None:
    assert mapping.spam_reason(ticket(spam=True)) == "marked as spam in the helpdesk"
    assert mapping.spam_reason(ticket(tags=("SPAM",))) == "tag 'SPAM'"
    assert mapping.spam_reason(ticket(type="Spam")) == "type 'Spam'"
    assert mapping.spam_reason(ticket(tags=("outage",))) is None


def test_without_a_file_the_ticket_type_is_the_intent() -> None:
    types = TicketMapping.types_only()
    rule = types.intent_for(ticket(type="Billing Dispute", tags=("outage",)))
    assert rule is not None and rule.intent == "billing_dispute"
    rule = types.intent_for(ticket(type="SIM & Number"))
    assert rule is not None and rule.intent == "sim_number"
    assert types.intent_for(ticket(tags=("outage",))) is None
    assert types.spam_reason(ticket(type="spam")) == "type 'spam'"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"intents": []}, "intents: List should have at least 1 item"),
        ({"intents": [{"intent": "a"}]}, "names no tags and no types"),
        ({"intents": [{"intent": "a b", "tags": ["x"]}]}, "intents.0.intent"),
        ({"intents": [{"intent": "a", "tags": ["x"], "colour": "red"}]}, "colour"),
        ({"intents": [{"intent": "a", "tags": ["x"]}], "urgency": {"urgent": "asap"}}, "urgency"),
        ({"intents": [{"intent": "a", "tags": ["x"]}], "version": 2}, "version"),
        (
            {
                "intents": [
                    {"intent": "a", "category": "X", "tags": ["x"]},
                    {"intent": "a", "category": "Y", "tags": ["y"]},
                ]
            },
            "has two categories",
        ),
        ("just text", "mapping <memory>"),
    ],
)
def test_invalid_mappings_are_refused_naming_the_problem(document: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        TicketMapping.from_mapping(document)


def test_unreadable_or_non_yaml_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("intents: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is not valid YAML"):
        TicketMapping.from_file(bad)
    with pytest.raises(InvalidInputError, match="cannot be read"):
        TicketMapping.from_file(tmp_path / "missing.yaml")


def test_the_shipped_sample_mapping_is_valid() -> None:
    mapping = TicketMapping.from_file(SAMPLES / "mapping.yaml")
    assert len({r.intent for r in mapping.rules}) == 12
    assert mapping.rules[-1].intent == "invoice_wrong"  # the broad billing tag comes last
