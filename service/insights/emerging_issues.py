"""Emerging issues: what customers write about now that they did not write about before.

Two detectors over the messages of a window, each judged against the trailing baseline
before it (the same service, the same kind of traffic, so no fixed volumes are assumed):

* **Intent spikes.** An intent's count in the window against the count its baseline rate
  predicts for a window of that length. A one-sided Poisson test gives the significance;
  an intent is reported only when it is significant after a Bonferroni correction over
  all intents, at least ``min_spike_count`` messages and ``min_ratio`` times the expected
  count, so the normal ebb and flow of a busy intent raises nothing.
* **New themes.** The window's messages are grouped by meaning (average-linkage clustering
  of their embeddings, :mod:`models.message_clusters`), whatever intent they got or none.
  A group's expected size is the number of baseline messages as close to its centre as
  its own members are, scaled to the window; a group well above its expectation (same
  Poisson test) is new or growing. This catches both messages no intent covers and a new
  theme inside an existing intent ("the cancel button is gone" under ``cancel_order``),
  and it forms from a handful of messages, because the baseline of a new theme is near
  zero.

Each finding carries the numbers behind it (observed, expected, p-value), a label from
the group's distinctive terms, first and last seen, and up to five representative
messages (already redacted when stored).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy.special import gammainc

from models.message_clusters import (
    FloatArray,
    candidate_name,
    cluster_embeddings,
    distinctive_terms,
    representatives,
    unit_rows,
)

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class ObservedMessage:
    """A triaged message as the insights read it: when, what (redacted), which intent
    (``None``: out of scope) and its sentence embedding."""

    id: str
    at: datetime
    text: str
    intent: str | None
    embedding: FloatArray


@dataclass(frozen=True)
class IntentSpike:
    """An intent far above its own trailing rate."""

    intent: str
    observed: int
    expected: float
    ratio: float
    p_value: float


@dataclass(frozen=True)
class EmergingTheme:
    """A group of similar messages well above what the baseline predicts near its centre."""

    label: str
    terms: tuple[str, ...]
    size: int
    expected: float
    growth: float
    p_value: float
    first_seen: datetime
    last_seen: datetime
    intents: dict[str, int]
    examples: tuple[str, ...]
    message_ids: tuple[str, ...]


@dataclass(frozen=True)
class EmergingReport:
    """Everything found in one window, most significant first."""

    since: datetime
    until: datetime
    baseline_since: datetime
    messages: int
    baseline_messages: int
    spikes: tuple[IntentSpike, ...]
    themes: tuple[EmergingTheme, ...]


@dataclass(frozen=True)
class EmergingSettings:
    """Knobs of the detectors (defaults chosen on the replay in
    ``bench/emerging_issues_replay.py``, never on a test).

    Attributes:
        alpha: family-wise false-alarm rate per report (Bonferroni over the candidates).
        min_spike_count: smallest intent count worth reporting as a spike.
        min_ratio: observed / expected needed for a spike or a theme.
        min_theme_size: smallest group reported as a theme.
        distance_threshold: average cosine distance within a group.
        ball_similarity: the loosest similarity to a group's centre at which window and
            baseline messages are counted as the same theme (see ``_ball_counts``).
        max_window_messages: cap on the messages clustered (newest kept): clustering is
            quadratic in memory.
    """

    alpha: float = 0.01
    min_spike_count: int = 5
    min_ratio: float = 3.0
    min_theme_size: int = 5
    distance_threshold: float = 0.55
    ball_similarity: float = 0.6
    max_window_messages: int = 5_000


class EmergingIssueDetector:
    """Finds intent spikes and new themes in a window against its baseline. Stateless."""

    def __init__(self, settings: EmergingSettings | None = None) -> None:
        self.settings = settings or EmergingSettings()

    def detect(
        self,
        window: Sequence[ObservedMessage],
        baseline: Sequence[ObservedMessage],
        *,
        since: datetime,
        until: datetime,
        baseline_since: datetime,
    ) -> EmergingReport:
        """Spikes and themes of ``window`` (messages in ``[since, until)``) against
        ``baseline`` (messages in ``[baseline_since, since)``)."""
        scale = _span_ratio(since, until, baseline_since)
        window = sorted(window, key=lambda m: m.at)[-self.settings.max_window_messages :]
        themes = self._themes(window, baseline, scale) if window else []
        spikes: list[IntentSpike] = []
        if scale is not None:
            # A theme that is one intent's own rise is that intent's spike; the others
            # explain their messages, so the spike test runs on what they leave.
            spiking = {s.intent for s in self._spikes(window, baseline, scale, set())}
            themes = [t for t in themes if _dominant_intent(t) not in spiking]
            explained = {i for theme in themes for i in theme.message_ids}
            spikes = self._spikes(window, baseline, scale, explained)
        return EmergingReport(
            since=since,
            until=until,
            baseline_since=baseline_since,
            messages=len(window),
            baseline_messages=len(baseline),
            spikes=tuple(sorted(spikes, key=lambda s: s.p_value)),
            themes=tuple(sorted(themes, key=lambda t: t.p_value)),
        )

    def _spikes(
        self,
        window: Sequence[ObservedMessage],
        baseline: Sequence[ObservedMessage],
        scale: float,
        explained: set[str],
    ) -> list[IntentSpike]:
        """Intents far above their baseline rate once the messages of reported themes are
        set aside (a burst that is already a theme is not reported twice)."""
        settings = self.settings
        now = Counter(m.intent or OUT_OF_SCOPE for m in window if m.id not in explained)
        before = Counter(m.intent or OUT_OF_SCOPE for m in baseline)
        tests = max(1, len(set(now) | set(before)))
        found = []
        for intent, observed in now.items():
            # Half a message of prior: an intent never seen before is not infinitely rare.
            expected = (before.get(intent, 0) + 0.5) * scale
            p_value = poisson_tail(observed, expected)
            if (
                observed >= settings.min_spike_count
                and observed >= settings.min_ratio * expected
                and p_value * tests < settings.alpha
            ):
                found.append(
                    IntentSpike(
                        intent, observed, round(expected, 2), round(observed / expected, 1), p_value
                    )
                )
        return found

    def _themes(
        self,
        window: Sequence[ObservedMessage],
        baseline: Sequence[ObservedMessage],
        scale: float | None,
    ) -> list[EmergingTheme]:
        settings = self.settings
        vectors = unit_rows(np.stack([m.embedding for m in window]))
        groups = cluster_embeddings(
            vectors,
            distance_threshold=settings.distance_threshold,
            min_cluster_size=settings.min_theme_size,
        )
        count = int(groups.max()) + 1 if len(groups) else 0
        if count == 0:
            return []
        base = (
            unit_rows(np.stack([m.embedding for m in baseline]))
            if baseline
            else np.zeros((0, vectors.shape[1]))
        )
        texts = [m.text for m in window]
        members = [[int(i) for i in np.flatnonzero(groups == k)] for k in range(count)]
        terms = distinctive_terms(
            [[texts[i] for i in rows] for rows in members],
            [t for i, t in enumerate(texts) if groups[i] < 0],
        )
        found = []
        for k, rows in enumerate(members):
            observed, expected = self._ball_counts(vectors[rows], vectors, base, scale)
            size = len(rows)
            p_value = poisson_tail(observed, expected)
            if observed < settings.min_ratio * expected or p_value * count >= settings.alpha:
                continue
            chosen, _, _ = representatives(vectors[rows], [texts[i] for i in rows], k=5)
            times = [window[i].at for i in rows]
            found.append(
                EmergingTheme(
                    label=candidate_name(terms[k], fallback=f"theme_{k + 1}"),
                    terms=terms[k],
                    size=size,
                    expected=round(expected, 2),
                    growth=round(observed / expected, 1),
                    p_value=p_value,
                    first_seen=min(times),
                    last_seen=max(times),
                    intents=dict(Counter(window[i].intent or OUT_OF_SCOPE for i in rows)),
                    examples=tuple(texts[rows[j]] for j in chosen),
                    message_ids=tuple(window[i].id for i in rows),
                )
            )
        return found

    def _ball_counts(
        self,
        members: npt.NDArray[np.float64],
        window: npt.NDArray[np.float64],
        baseline: npt.NDArray[np.float64],
        scale: float | None,
    ) -> tuple[int, float]:
        """Window and expected counts in the same ball around the group's centre.

        Counting both periods in one ball, rather than the group's own size against the
        baseline, keeps the test fair: clustering picks the window's densest spots, and a
        ball drawn tightly round them would find the baseline sparse there by chance. A
        ball no tighter than ``ball_similarity`` covers the theme, not the sample.
        """
        centre, radius = _ball(members, self.settings.ball_similarity)
        observed = int(np.count_nonzero(window @ centre >= radius))
        if scale is None:
            return observed, 0.5
        near = int(np.count_nonzero(baseline @ centre >= radius)) if len(baseline) else 0
        # Half a message of prior: a theme never seen before is not infinitely rare.
        return observed, (near + 0.5) * scale


def _dominant_intent(theme: EmergingTheme, share: float = 0.8) -> str | None:
    """The intent of at least ``share`` of the theme's messages (never out of scope: that
    is the absence of an intent, not a topic)."""
    intent, count = max(theme.intents.items(), key=lambda kv: kv[1])
    return intent if intent != OUT_OF_SCOPE and count >= share * theme.size else None


def _span_ratio(since: datetime, until: datetime, baseline_since: datetime) -> float | None:
    """Window length over baseline length (``None`` without a baseline period)."""
    baseline = (since - baseline_since).total_seconds()
    if baseline <= 0:
        return None
    return max((until - since).total_seconds(), 1.0) / baseline


def _ball(
    members: npt.NDArray[np.float64], ceiling: float
) -> tuple[npt.NDArray[np.float64], float]:
    """The group's unit centre and a radius (cosine similarity) around it: as wide as its
    loosest members reach, and never tighter than ``ceiling``."""
    centre = members.mean(axis=0)
    centre = centre / (np.linalg.norm(centre) or 1.0)
    return centre, min(float(np.quantile(members @ centre, 0.1)), ceiling)


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected): the regularised lower incomplete gamma
    function P(observed, expected)."""
    if observed <= 0:
        return 1.0
    return float(gammainc(observed, max(expected, 1e-9)))


def significance(p_value: float) -> float:
    """-log10 of a p-value, capped, for display."""
    return round(min(-math.log10(max(p_value, 1e-300)), 300.0), 1)
