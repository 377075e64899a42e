"""Routing file: the shipped default is valid, mistakes stop loading with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.routing_policy import RoutingConfigError, RoutingPolicy
from service.settings import DEFAULT_ROUTING_FILE


@pytest.fixture(scope="module")
def policy() -> RoutingPolicy:
    return RoutingPolicy.from_file(DEFAULT_ROUTING_FILE)


def test_critical_payment_goes_to_trust_and_safety(policy: RoutingPolicy) -> None:
    decision = policy.route(category="PAYMENT", urgency="critical")
    assert (decision.queue, decision.priority) == ("trust_and_safety", "P1")


def test_category_queue_and_urgency_priority(policy: RoutingPolicy) -> None:
    decision = policy.route(category="DELIVERY", urgency="high")
    assert (decision.queue, decision.priority) == ("shipping", "P2")


def test_unsupported_language_goes_to_multilingual(policy: RoutingPolicy) -> None:
    assert policy.route(category=None, urgency="normal", language_supported=False).queue == (
        "multilingual"
    )


def test_unknown_category_falls_back_to_the_default_queue(policy: RoutingPolicy) -> None:
    assert policy.route(category=None, urgency="low").queue == "general"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


VALID_HEAD = (
    "default_queue: general\npriority_by_urgency: {critical: P1, high: P2, normal: P3, low: P4}\n"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("default_queue: [\n", "not valid YAML"),
        ("- just a list\n", "top level must be a mapping"),
        ("default_queue: general\npriority_by_urgency: {critical: P1}\n", "exactly"),
        (VALID_HEAD + "rules:\n  - when: {urgency: urgentish}\n    queue: x\n", "urgentish"),
        (VALID_HEAD + "rules:\n  - when: {colour: red}\n    queue: x\n", "unknown keys"),
        (VALID_HEAD + "queus: {}\n", "unknown keys ['queus']"),
        (VALID_HEAD + "rules:\n  - when: {urgency: high}\n", "exactly 'when' and 'queue'"),
    ],
)
def test_invalid_routing_files_are_refused(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(RoutingConfigError) as info:
        RoutingPolicy.from_file(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_routing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RoutingConfigError, match="cannot be read"):
        RoutingPolicy.from_file(tmp_path / "nope.yaml")


def test_categories_the_intent_model_does_not_produce_are_listed(policy: RoutingPolicy) -> None:
    known = {"ORDER", "DELIVERY", "SHIPPING_ADDRESS", "REFUND", "PAYMENT", "ACCOUNT"}
    assert policy.unknown_categories(known) == [
        "CANCELLATION_FEE",
        "CONTACT",
        "FEEDBACK",
        "INVOICE",
        "NEWSLETTER",
    ]
