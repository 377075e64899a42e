"""The policy file: the shipped default loads; any mistake stops startup with a clear error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kb_index.knowledge_base import KnowledgeBase
from service.database import Database
from service.feedback.feedback_store import FeedbackStore
from service.messages.message_recorder import NoMessageRecorder
from service.respond.respond_policy import (
    DEFAULT_POLICY_PATH,
    PolicyError,
    RespondPolicy,
    load_policy,
    manifest_auto_reply_off,
)
from service.respond.response_pipeline import build_response_pipeline
from tests.service.drafting.conftest import make_service


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_policy_has_the_documented_defaults() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy.auto_reply_intents == {"track_order", "delivery_period"}
    assert policy.escalate_urgency == {"critical"}
    assert "contact_human_agent" in policy.human_request_intents
    assert policy.public_channels == {"social"}
    assert any(p.search("I want to speak to a human") for p in policy.human_request_patterns)
    assert not any(p.search("where is my order?") for p in policy.human_request_patterns)


def test_minimal_file_takes_defaults_for_the_rest(tmp_path: Path) -> None:
    policy = load_policy(_policy(tmp_path, "version: 1\nauto_reply:\n  min_confidence: 0.8\n"))
    assert policy.min_confidence == 0.8
    assert policy.auto_reply_intents == {"track_order", "delivery_period"}
    assert policy.source == str(tmp_path / "policy.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nauto_reply:\n  min_confidence: 1.5\n", "auto_reply.min_confidence"),
        (
            "version: 1\nauto_reply:\n  min_confidnce: 0.5\n",
            "auto_reply.min_confidnce: Extra inputs",
        ),
        ("version: 1\nauto_reply:\n  channels: [email, fax]\n", "auto_reply.channels.1"),
        ("version: 1\nescalate:\n  urgency: [high]\n", "must include 'critical'"),
        (
            "version: 1\nescalate:\n  human_request_patterns: ['(unclosed']\n",
            "not a regular expression",
        ),
        ("version: 1\nreply:\n  timezone: Mars/Olympus\n", "not an IANA time zone"),
        ("version: 1\nreply:\n  signature: 'Hi {{name}}'\n", "without { } placeholders"),
        ("version: 2\n", "version"),
        ("auto_reply: {}\n", "version: Field required"),
        ("- just\n- a list\n", "expected a mapping"),
        ("version: 1\nauto_reply: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_policy_names_file_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = _policy(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read it"):
        load_policy(tmp_path / "nope.yaml")


def test_own_policy_none_of_whose_intents_the_model_knows_is_refused(tmp_path: Path) -> None:
    policy = load_policy(_policy(tmp_path, "version: 1\nauto_reply:\n  intents: [track_ordr]\n"))
    with pytest.raises(PolicyError, match=r"none of the auto_reply intents \(track_ordr\)"):
        policy.for_model(["track_order", "contact_human_agent"], model="m@1")


def test_intents_a_smaller_model_lacks_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    served = RespondPolicy.default().for_model(["track_order", "contact_human_agent"], model="m@1")
    assert "off for delivery_period (not labels of the model)" in caplog.text
    assert served.auto_reply_intents == {"track_order"}


def test_shipped_policy_serves_a_model_without_its_intents(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    served = RespondPolicy.default().for_model(["no_signal", "router_setup"], model="nw@1")
    assert served.auto_reply_intents == frozenset()
    assert served.human_request_intents == frozenset()
    assert served.human_request_patterns  # "talk to a person" is still recognised
    (line,) = [r.getMessage() for r in caplog.records]
    assert "auto-reply on for no intent; off for delivery_period, track_order" in line


def test_manifest_auto_reply_false_removes_an_intent_the_policy_lists(tmp_path: Path) -> None:
    text = "version: 1\nauto_reply:\n  intents: [cancel_contract, router_setup]\n"
    policy = load_policy(_policy(tmp_path, text))
    off = manifest_auto_reply_off(
        {"auto_reply": {"cancel_contract": False, "router_setup": True}}, model="nw@1"
    )
    assert off == {"cancel_contract"}
    served = policy.for_model(["cancel_contract", "router_setup"], model="nw@1", auto_reply_off=off)
    assert served.auto_reply_intents == {"router_setup"}


def test_own_policy_intents_the_model_lacks_are_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "version: 1\nauto_reply:\n  intents: [track_order, delivery_perod]\n"
    load_policy(_policy(tmp_path, text)).for_model(["track_order"], model="m@1")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "off for delivery_perod (not labels of the model)" in record.getMessage()


def test_a_policy_whose_only_intents_the_manifest_vetoes_still_starts(tmp_path: Path) -> None:
    policy = load_policy(_policy(tmp_path, "version: 1\nauto_reply:\n  intents: [cancel]\n"))
    served = policy.for_model(["cancel"], model="nw@1", auto_reply_off={"cancel"})
    assert served.auto_reply_intents == frozenset()


@pytest.mark.parametrize("params", [{}, {"auto_reply": {}}, {"other": 1}])
def test_models_without_auto_reply_in_the_manifest_veto_nothing(params: dict[str, object]) -> None:
    assert manifest_auto_reply_off(params, model="m@1") == frozenset()


@pytest.mark.parametrize("recorded", [["cancel"], {"cancel": "no"}, "false"])
def test_malformed_manifest_auto_reply_is_a_policy_error(recorded: object) -> None:
    with pytest.raises(PolicyError, match=r"intent model m@1: manifest params.auto_reply"):
        manifest_auto_reply_off({"auto_reply": recorded}, model="m@1")


def test_policy_version_changes_with_the_file(tmp_path: Path) -> None:
    a = load_policy(_policy(tmp_path, "version: 1\n"))
    b = load_policy(_policy(tmp_path, "version: 1\nsuggestions:\n  max_passages: 2\n"))
    assert a.version != b.version


def test_bad_policy_file_stops_the_pipeline_from_being_built(
    tmp_path: Path, help_centre: KnowledgeBase, sqlite_database: Database
) -> None:
    def build(policy_text: str) -> object:
        return build_response_pipeline(
            load_policy(_policy(tmp_path, policy_text)),
            triager=_NoTriage(),
            intent_labels=["track_order", "delivery_period", "contact_human_agent"],
            intent_version="m@1",
            orders=_NoOrders(),
            drafter=make_service(help_centre),
            recorder=FeedbackStore(sqlite_database),
            messages=NoMessageRecorder(),
        )

    with pytest.raises(PolicyError, match=r"policy.yaml: auto_reply.min_confidence: Input should"):
        build("version: 1\nauto_reply:\n  min_confidence: lots\n")
    with pytest.raises(PolicyError, match=r"none of the auto_reply intents \(track_ordr\)"):
        build("version: 1\nauto_reply:\n  intents: [track_ordr]\n")


class _NoTriage:
    def triage(self, message: object) -> object:
        raise AssertionError("not called while building")


class _NoOrders:
    name = "none"

    def get_order(self, order_id: str) -> None:
        raise AssertionError("not called while building")

    def recent_orders(self, customer: object, *, limit: int) -> list[object]:
        raise AssertionError("not called while building")

    def close(self) -> None:
        pass


def test_shipped_policy_keeps_the_models_critical_threshold() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy.critical_score_threshold is None
    assert policy.escalates_urgency("critical", 0.01)
    assert not policy.escalates_urgency("high", 0.99)
    assert not policy.escalates_urgency(None, None)


def test_operator_threshold_decides_critical_from_the_score(tmp_path: Path) -> None:
    text = "version: 1\nescalate:\n  urgency: [critical, high]\n  critical_score: 0.8\n"
    policy = load_policy(_policy(tmp_path, text))
    assert policy.critical_score_threshold == 0.8
    # The model called it critical, but the operator asks for a higher score.
    assert not policy.escalates_urgency("critical", 0.6)
    assert policy.escalates_urgency("critical", 0.8)
    # A lower level with a high emergency score escalates, and listed levels still do.
    assert policy.escalates_urgency("normal", 0.95)
    assert policy.escalates_urgency("high", 0.1)
    assert not policy.escalates_urgency("normal", 0.1)
    # A model without an emergency detector gives no score: the level decides.
    assert policy.escalates_urgency("critical", None)


@pytest.mark.parametrize("value", ["1.5", "0", "-0.2", "'high'"])
def test_critical_score_outside_zero_one_is_refused(tmp_path: Path, value: str) -> None:
    path = _policy(tmp_path, f"version: 1\nescalate:\n  critical_score: {value}\n")
    with pytest.raises(PolicyError, match=r"escalate\.critical_score"):
        load_policy(path)
