"""Routing: intent category × urgency → queue and priority, from an operator-edited YAML file.

The file is validated completely when it is loaded, so a typo stops the service at
startup with the file name and the offending key, instead of misrouting tickets later.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from models.errors import ArtifactError
from models.urgency_classifier import LEVELS as URGENCY_LEVELS

_CONDITION_KEYS: Final = frozenset({"urgency", "category", "language_supported"})


class RoutingConfigError(ArtifactError):
    """The routing file is missing or invalid."""

    code = "routing_config_error"


@dataclass(frozen=True)
class RoutingDecision:
    """Where a message goes and how soon."""

    queue: str
    priority: str
    rule: str


@dataclass(frozen=True)
class RoutingRule:
    """Send messages matching every given condition to ``queue``."""

    queue: str
    urgency: frozenset[str] | None = None
    category: frozenset[str] | None = None
    language_supported: bool | None = None

    def matches(self, *, category: str | None, urgency: str, language_supported: bool) -> bool:
        """True when every condition of the rule holds."""
        if self.urgency is not None and urgency not in self.urgency:
            return False
        if self.category is not None and (category or "").upper() not in self.category:
            return False
        return self.language_supported is None or self.language_supported == language_supported


@dataclass(frozen=True)
class RoutingPolicy:
    """A validated routing table."""

    default_queue: str
    priority_by_urgency: Mapping[str, str]
    queue_by_category: Mapping[str, str]
    rules: tuple[RoutingRule, ...]
    source: str = "<memory>"

    def route(
        self, *, category: str | None, urgency: str, language_supported: bool = True
    ) -> RoutingDecision:
        """Queue and priority of one triaged message."""
        if urgency not in self.priority_by_urgency:
            raise ValueError(f"unknown urgency level {urgency!r}")
        priority = self.priority_by_urgency[urgency]
        for i, rule in enumerate(self.rules):
            if rule.matches(
                category=category, urgency=urgency, language_supported=language_supported
            ):
                return RoutingDecision(rule.queue, priority, f"rules[{i}]")
        key = (category or "").upper()
        if key in self.queue_by_category:
            return RoutingDecision(self.queue_by_category[key], priority, f"category {key}")
        return RoutingDecision(self.default_queue, priority, "default")

    def unknown_categories(self, known: Collection[str]) -> list[str]:
        """Category names in the file that the intent model never produces (dead rules)."""
        known_upper = {k.upper() for k in known}
        named = set(self.queue_by_category)
        for rule in self.rules:
            named |= set(rule.category or ())
        return sorted(named - known_upper)

    @classmethod
    def from_file(cls, path: Path) -> RoutingPolicy:
        """Read and validate a routing YAML file."""
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RoutingConfigError(f"routing file {path} cannot be read ({exc})") from exc
        except yaml.YAMLError as exc:
            raise RoutingConfigError(f"routing file {path} is not valid YAML: {exc}") from exc
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: Any, *, source: str = "<memory>") -> RoutingPolicy:
        """Validate a parsed routing document."""

        def fail(message: str) -> RoutingConfigError:
            return RoutingConfigError(f"{source}: {message}")

        if not isinstance(raw, dict):
            raise fail("top level must be a mapping")
        allowed = {"version", "default_queue", "priority_by_urgency", "queue_by_category", "rules"}
        extra = sorted(set(raw) - allowed)
        if extra:
            raise fail(f"unknown keys {extra} (allowed: {sorted(allowed)})")
        if raw.get("version", 1) != 1:
            raise fail(f"version {raw.get('version')!r} is not supported (use 1)")
        default_queue = raw.get("default_queue")
        if not isinstance(default_queue, str) or not default_queue.strip():
            raise fail("default_queue must be a non-empty string")
        prio = raw.get("priority_by_urgency")
        if not isinstance(prio, dict) or set(prio) != set(URGENCY_LEVELS):
            raise fail(f"priority_by_urgency must name exactly {list(URGENCY_LEVELS)}")
        if not all(isinstance(v, str) and v.strip() for v in prio.values()):
            raise fail("priority_by_urgency values must be non-empty strings")
        by_cat = raw.get("queue_by_category") or {}
        if not isinstance(by_cat, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in by_cat.items()
        ):
            raise fail("queue_by_category must map category names to queue names")
        rules_raw = raw.get("rules") or []
        if not isinstance(rules_raw, list):
            raise fail("rules must be a list")
        rules = tuple(_parse_rule(r, i, fail) for i, r in enumerate(rules_raw))
        return cls(
            default_queue=default_queue,
            priority_by_urgency={str(k): str(v) for k, v in prio.items()},
            queue_by_category={k.upper(): v for k, v in by_cat.items()},
            rules=rules,
            source=source,
        )


def _names(value: Any, *, field: str, index: int, fail: Any) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise fail(f"rules[{index}].when.{field} must be a name or a list of names")
    return frozenset(items)


def _parse_rule(raw: Any, index: int, fail: Any) -> RoutingRule:
    if not isinstance(raw, dict) or set(raw) != {"when", "queue"}:
        raise fail(f"rules[{index}] must have exactly 'when' and 'queue'")
    queue, when = raw["queue"], raw["when"]
    if not isinstance(queue, str) or not queue.strip():
        raise fail(f"rules[{index}].queue must be a non-empty string")
    if not isinstance(when, dict) or not when:
        raise fail(f"rules[{index}].when must be a non-empty mapping")
    unknown = sorted(set(when) - _CONDITION_KEYS)
    if unknown:
        raise fail(f"rules[{index}].when has unknown keys {unknown}")
    urgency = category = None
    if "urgency" in when:
        urgency = _names(when["urgency"], field="urgency", index=index, fail=fail)
        bad = sorted(urgency - set(URGENCY_LEVELS))
        if bad:
            raise fail(f"rules[{index}].when.urgency has unknown levels {bad}")
    if "category" in when:
        category = frozenset(
            c.upper() for c in _names(when["category"], field="category", index=index, fail=fail)
        )
    supported = when.get("language_supported")
    if supported is not None and not isinstance(supported, bool):
        raise fail(f"rules[{index}].when.language_supported must be true or false")
    return RoutingRule(queue, urgency=urgency, category=category, language_supported=supported)
