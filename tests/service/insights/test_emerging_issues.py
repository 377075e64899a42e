"""Emerging issues on synthetic traffic: steady topics raise nothing, a burst on a new
topic is one theme, an intent far above its rate is a spike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from service.insights.emerging_issues import (
    EmergingIssueDetector,
    ObservedMessage,
    poisson_tail,
)

UNTIL = datetime(2026, 11, 30, tzinfo=UTC)
SINCE = UNTIL - timedelta(hours=24)
BASELINE_SINCE = SINCE - timedelta(days=7)
DIM = 32
TOPICS = ["refund status", "delivery time", "change address", "invoice copy", "reset password"]


def topic_vector(rng: np.random.Generator, axis: int) -> np.ndarray:
    v = np.eye(DIM)[axis] + rng.normal(scale=0.12, size=DIM)
    return v / np.linalg.norm(v)


def background(rng: np.random.Generator, per_day: int = 200) -> list[ObservedMessage]:
    messages = []
    seconds = int((UNTIL - BASELINE_SINCE).total_seconds())
    for i in range(per_day * 8):
        topic = int(rng.integers(len(TOPICS)))
        at = BASELINE_SINCE + timedelta(seconds=int(rng.integers(seconds)))
        text = f"question about {TOPICS[topic]} number {i}"
        messages.append(
            ObservedMessage(
                f"m{i}", at, text, TOPICS[topic].replace(" ", "_"), topic_vector(rng, topic)
            )
        )
    return messages


def burst(rng: np.random.Generator, n: int, *, intent: str | None = None) -> list[ObservedMessage]:
    words = ["locker code rejected", "locker will not open", "pickup locker code wrong"]
    return [
        ObservedMessage(
            f"burst{j}",
            SINCE + timedelta(hours=5, minutes=7 * j),
            f"the {words[j % 3]} again {j}",
            intent,
            topic_vector(rng, 20),
        )
        for j in range(n)
    ]


def detect(messages: list[ObservedMessage]):  # type: ignore[no-untyped-def]
    window = [m for m in messages if m.at >= SINCE]
    baseline = [m for m in messages if m.at < SINCE]
    return EmergingIssueDetector().detect(
        window, baseline, since=SINCE, until=UNTIL, baseline_since=BASELINE_SINCE
    )


def test_steady_traffic_raises_nothing() -> None:
    for seed in range(3):
        report = detect(background(np.random.default_rng(seed)))
        assert report.themes == () and report.spikes == (), seed
        assert report.messages > 0 and report.baseline_messages > report.messages


def test_a_burst_of_eight_messages_on_a_new_topic_is_one_theme() -> None:
    rng = np.random.default_rng(7)
    report = detect(background(rng) + burst(rng, 8))
    [theme] = report.themes
    assert set(theme.message_ids) == {f"burst{j}" for j in range(8)}
    assert "locker" in theme.label
    assert theme.size == 8 and theme.expected < 1 and theme.p_value < 1e-6
    assert theme.first_seen == SINCE + timedelta(hours=5)
    assert len(theme.examples) == 5
    assert theme.intents == {"out_of_scope": 8}
    assert report.spikes == ()  # the out-of-scope rise is this theme, not reported twice


def test_three_messages_are_not_yet_a_theme() -> None:
    rng = np.random.default_rng(3)
    assert detect(background(rng) + burst(rng, 3)).themes == ()


def test_an_intent_far_above_its_rate_is_a_spike() -> None:
    rng = np.random.default_rng(11)
    messages = background(rng)
    extra = [
        ObservedMessage(
            f"x{j}",
            SINCE + timedelta(hours=3, minutes=j),
            f"question about invoice copy {j}",
            "invoice_copy",
            topic_vector(rng, 3),
        )
        for j in range(150)
    ]
    report = detect(messages + extra)
    spikes = {s.intent: s for s in report.spikes}
    assert set(spikes) == {"invoice_copy"}
    spike = spikes["invoice_copy"]
    assert spike.observed > 150 and spike.ratio > 3 and spike.p_value < 1e-10


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert abs(poisson_tail(1, 1.0) - (1 - np.exp(-1))) < 1e-12
    assert poisson_tail(20, 2.0) < 1e-10
