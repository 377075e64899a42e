"""Hostile but legal messages: every pattern stays linear, every answer stays correct.

Three kinds of check, none timed: (1) a static one, that no regular expression in the
packages nests a repeat inside an unbounded one (the shape behind the 10.5 s ``no:``
message); (2) correctness of entity extraction and message analysis on 20,000-character
adversarial texts; (3) deterministic work counters (comparisons, words handed to VADER)
that must grow no faster than n log n. ``bench/adversarial_inputs.py`` prints the times.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import random
import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest

from models.entity_extractor import Entity, EntityExtractor, select_non_overlapping
from models.message_analyzer import MessageAnalyzer
from models.sentiment_analyzer import MAX_WORDS, SentimentAnalyzer
from tests.fixtures.adversarial_texts import MAX_MESSAGE_CHARS, adversarial_texts, repeated

ADVERSARIAL = adversarial_texts()
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)


def _module_patterns() -> dict[str, re.Pattern[str]]:
    """Every compiled pattern held at module level (also in tuples and cue objects)."""
    found: dict[str, re.Pattern[str]] = {}
    for package in ("models", "service", "kb_index"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" in info.name:
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                values = value if isinstance(value, tuple | list) else (value,)
                for i, item in enumerate(values):
                    pattern = (
                        item if isinstance(item, re.Pattern) else getattr(item, "pattern", None)
                    )
                    if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
                        found[f"{info.name}.{name}[{i}]"] = pattern
    return found


def _nested_repeats(items: Any, outer: str | None = None) -> int:
    """Repeats (max > 1) inside another where either is unbounded and neither possessive:
    the shapes a backtracking engine can split in polynomially or exponentially many ways.
    ``outer`` is None, "bounded" or "unbounded": the innermost enclosing repeat so far."""
    hits = 0
    for op, arg in items:
        if op in _REPEATS:
            _low, high, body = arg
            unbounded = high == sre_constants.MAXREPEAT
            if high > 1 and (outer == "unbounded" or (outer == "bounded" and unbounded)):
                hits += 1
            if outer == "unbounded" or unbounded:
                inner: str | None = "unbounded"
            else:
                inner = "bounded" if high > 1 else outer
            hits += _nested_repeats(body, inner)
        elif op == sre_constants.POSSESSIVE_REPEAT:
            hits += _nested_repeats(arg[2], None)
        elif op == sre_constants.ATOMIC_GROUP:
            hits += _nested_repeats(arg, None)
        elif op == sre_constants.SUBPATTERN:
            hits += _nested_repeats(arg[3], outer)
        elif op == sre_constants.BRANCH:
            hits += sum(_nested_repeats(branch, outer) for branch in arg[1])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            hits += _nested_repeats(arg[1], outer)
    return hits


def test_the_nesting_check_finds_the_patterns_that_were_slow() -> None:
    slow = [
        r"(?:\s*(?:no\b\.?|:|,))*\s*\d",  # the old entity anchor connectors
        r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b",  # the old e-mail pattern
        r"^thanks\s*(?:[A-Z][\w.'-]*\s*){0,3}$",  # the old sign-off
    ]
    for pattern in slow:
        assert _nested_repeats(sre_parse.parse(pattern)) > 0, pattern
    assert _nested_repeats(sre_parse.parse(r"(?:\s{0,20}+(?:no\b|:)){0,4}\s{0,20}+\d")) == 0


def test_no_pattern_nests_a_repeat_inside_an_unbounded_one() -> None:
    patterns = _module_patterns()
    assert len(patterns) > 50  # the walk reaches the packages' patterns
    offenders = [
        name
        for name, pattern in patterns.items()
        if _nested_repeats(sre_parse.parse(pattern.pattern, pattern.flags))
    ]
    assert offenders == []


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor()


def _assert_well_formed(text: str, entities: list[Entity]) -> None:
    for entity in entities:
        assert text[entity.start : entity.end] == entity.value
    spans = [(e.start, e.end) for e in entities]
    assert spans == sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_entities_of_adversarial_text_are_well_formed(
    extractor: EntityExtractor, name: str
) -> None:
    text = ADVERSARIAL[name]
    assert len(text) == MAX_MESSAGE_CHARS
    _assert_well_formed(text, extractor.extract(text))


def test_anchor_runs_find_no_order_but_a_real_one_after_them(extractor: EntityExtractor) -> None:
    text = repeated("no: ", 19_950) + " order no. 4411829"
    orders = [e.value for e in extractor.extract(text) if e.type == "order_id"]
    assert orders == ["4411829"]


def test_an_address_after_a_long_dotted_run_is_still_found(extractor: EntityExtractor) -> None:
    text = repeated("1.", 19_970) + " jane@example.com"
    emails = [e.value for e in extractor.extract(text) if e.type == "email"]
    assert emails == ["jane@example.com"]


def test_an_overlong_identifier_is_not_cut_into_an_order_number(
    extractor: EntityExtractor,
) -> None:
    found = extractor.extract("order " + "7" * 60)
    assert [e for e in found if e.type == "order_id"] == []


@pytest.fixture(scope="module")
def analyzer() -> MessageAnalyzer:
    return MessageAnalyzer()


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_analysis_of_adversarial_text_completes_with_valid_offsets(
    analyzer: MessageAnalyzer, name: str
) -> None:
    text = ADVERSARIAL[name]
    analysis = analyzer.analyze(text, subject=text[:1_000])
    for entity in analysis.entities:
        # Values come from the cleaned view (markup dropped), spans from the original text.
        source = text if entity.source == "text" else text[:1_000]
        assert 0 <= entity.start < entity.end <= len(source)
    assert -1.0 <= analysis.sentiment.score <= 1.0
    assert analysis.signals.prior_contacts == 0


class _Counting(int):
    """An int that counts the comparisons made with it: a deterministic work meter."""

    comparisons = 0

    def __lt__(self, other: object) -> bool:
        _Counting.comparisons += 1
        return int(self) < int(other)  # type: ignore[call-overload]

    def __gt__(self, other: object) -> bool:
        _Counting.comparisons += 1
        return int(self) > int(other)  # type: ignore[call-overload]


def _candidates(n: int, seed: int = 7) -> list[Entity]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        start = rng.randrange(0, 10 * n)
        end = start + rng.randrange(1, 12)
        out.append(Entity("order_id", "x", _Counting(start), _Counting(end)))
    return out


def _brute_force(candidates: list[Entity]) -> list[Entity]:
    taken: list[Entity] = []
    for cand in candidates:
        if not any(cand.start < t.end and t.start < cand.end for t in taken):
            taken.append(cand)
    return sorted(taken, key=lambda e: (e.start, e.end))


def test_overlap_resolution_keeps_what_checking_every_pair_keeps() -> None:
    for seed in range(5):
        candidates = _candidates(400, seed)
        assert select_non_overlapping(candidates) == _brute_force(candidates)


def test_overlap_resolution_work_grows_as_n_log_n() -> None:
    work = []
    for n in (2_000, 8_000):
        candidates = _candidates(n)
        _Counting.comparisons = 0
        select_non_overlapping(candidates)
        work.append(_Counting.comparisons)
    # 4x the candidates: n log n gives ~4.6x the comparisons, checking every pair ~16x.
    assert work[1] < 6 * work[0]


def test_sentiment_reads_a_bounded_number_of_words(monkeypatch: pytest.MonkeyPatch) -> None:
    sentiment = SentimentAnalyzer()
    seen: list[int] = []
    vader_scores = sentiment._vader.polarity_scores

    def counting(text: str) -> dict[str, float]:
        seen.append(len(text.split()))
        return vader_scores(text)

    monkeypatch.setattr(sentiment._vader, "polarity_scores", counting)
    angry_start = "This is unacceptable and useless, I am furious. " + repeated(
        "the order ", 19_000
    )
    result = sentiment.analyze(angry_start)
    assert seen == [MAX_WORDS]
    assert result.label == "negative"
    short = "Thanks, the parcel arrived and it is lovely."
    assert sentiment.analyze(short).label == "positive"
    assert seen[-1] == len(short.split())
