"""The mapping file of a ticket import: helpdesk tags/types → intents, priority → urgency.

A team's helpdesk already sorts tickets, with tags (Zendesk, Freshdesk) or a ticket type
or category field; the mapping file says which of those mean which intent. Rules are
tried top to bottom and the first rule that matches a ticket wins, so a ticket tagged
both ``billing`` and ``cancel_contract`` gets whichever rule comes first: put the specific
rules above the broad ones. Example::

    version: 1
    intents:
      - intent: cancel_contract          # label written to the training CSV
        category: CONTRACT               # optional; routing reads categories
        tags: [cancel, cancellation]     # any of these tags ...
        types: [Cancellation]            # ... or this ticket type / category
    urgency:                             # optional, overrides the defaults below
      urgent: critical
    drop:                                # tickets to leave out as spam
      tags: [spam]

Names compare case-insensitively, and any run of spaces and punctuation counts as one
underscore (``No signal`` matches the tag ``no_signal``, ``Router & Wifi`` matches
``router_wifi``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.errors import InvalidInputError
from training.ticket_readers import HelpdeskTicket

UrgencyName = Literal["low", "normal", "high", "critical"]

#: Helpdesk priority names → urgency levels (Zendesk: low/normal/high/urgent; Freshdesk:
#: low/medium/high/urgent). An "urgent" ticket is what the urgency model calls critical.
DEFAULT_URGENCY_BY_PRIORITY: Final[Mapping[str, str]] = {
    "low": "low",
    "normal": "normal",
    "medium": "normal",
    "high": "high",
    "urgent": "critical",
}


def name_key(name: str) -> str:
    """How names compare: case-insensitive, any run of spaces and punctuation as one ``_``."""
    return re.sub(r"[\W_]+", "_", name.casefold()).strip("_")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _IntentRuleIn(_Strict):
    intent: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
    category: Annotated[str | None, Field(default=None, max_length=100)] = None
    tags: list[Annotated[str, Field(min_length=1)]] = []
    types: list[Annotated[str, Field(min_length=1)]] = []

    @model_validator(mode="after")
    def _matches_something(self) -> _IntentRuleIn:
        if not self.tags and not self.types:
            raise ValueError(f"rule for {self.intent!r} names no tags and no types")
        return self


class _DropIn(_Strict):
    tags: list[Annotated[str, Field(min_length=1)]] = []
    types: list[Annotated[str, Field(min_length=1)]] = []


class _MappingIn(_Strict):
    version: Literal[1] = 1
    intents: Annotated[list[_IntentRuleIn], Field(min_length=1)]
    urgency: dict[str, UrgencyName] = {}
    drop: _DropIn = _DropIn()


@dataclass(frozen=True)
class IntentRule:
    """Tickets carrying any of ``tags`` or whose type is in ``types`` get ``intent``."""

    intent: str
    category: str | None
    tags: frozenset[str]
    types: frozenset[str]

    def matches(self, ticket: HelpdeskTicket) -> bool:
        """True when the ticket's type or one of its tags is named by the rule."""
        if ticket.type and name_key(ticket.type) in self.types:
            return True
        return any(name_key(tag) in self.tags for tag in ticket.tags)


@dataclass(frozen=True)
class TicketMapping:
    """A validated mapping file."""

    rules: tuple[IntentRule, ...]
    urgency_by_priority: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_URGENCY_BY_PRIORITY)
    )
    drop_tags: frozenset[str] = frozenset()
    drop_types: frozenset[str] = frozenset()
    source: str = "<memory>"
    #: Without a mapping file the ticket's own type/category is its intent.
    types_as_intents: bool = False

    @classmethod
    def types_only(cls) -> TicketMapping:
        """The mapping used without a file: intent = the ticket's type or category
        (in ``name_key`` form), tags ignored; ``spam`` tags and types are dropped."""
        spam = frozenset({"spam"})
        return cls(
            rules=(), drop_tags=spam, drop_types=spam, source="ticket types", types_as_intents=True
        )

    def intent_for(self, ticket: HelpdeskTicket) -> IntentRule | None:
        """The first rule (file order) that matches the ticket, if any."""
        if self.types_as_intents:
            key = name_key(ticket.type)
            return IntentRule(key, None, frozenset(), frozenset({key})) if key else None
        return next((rule for rule in self.rules if rule.matches(ticket)), None)

    def urgency_for(self, priority: str) -> str | None:
        """The urgency level of a helpdesk priority; None when it is empty or unknown."""
        return self.urgency_by_priority.get(name_key(priority)) if priority else None

    def spam_reason(self, ticket: HelpdeskTicket) -> str | None:
        """Why the ticket counts as spam (helpdesk flag, drop tag or type), else None."""
        if ticket.spam:
            return "marked as spam in the helpdesk"
        for tag in ticket.tags:
            if name_key(tag) in self.drop_tags:
                return f"tag {tag!r}"
        if ticket.type and name_key(ticket.type) in self.drop_types:
            return f"type {ticket.type!r}"
        return None

    @property
    def categories(self) -> dict[str, str]:
        """Intent → category for the rules that name one."""
        return {r.intent: r.category for r in self.rules if r.category}

    @classmethod
    def from_mapping(cls, raw: object, *, source: str = "<memory>") -> TicketMapping:
        """Validate a parsed mapping document."""
        try:
            parsed = _MappingIn.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InvalidInputError(f"mapping {source}: {problems}") from exc
        # An intent may have several rules (e.g. one per tag family); one category each.
        categories: dict[str, str] = {}
        for rule in parsed.intents:
            if rule.category is None:
                continue
            known = categories.setdefault(rule.intent, rule.category)
            if known != rule.category:
                raise InvalidInputError(
                    f"mapping {source}: intent {rule.intent!r} has two categories "
                    f"({known!r} and {rule.category!r})"
                )
        urgency = dict(DEFAULT_URGENCY_BY_PRIORITY)
        urgency.update({name_key(k): v for k, v in parsed.urgency.items()})
        return cls(
            rules=tuple(
                IntentRule(
                    intent=rule.intent,
                    category=categories.get(rule.intent),
                    tags=frozenset(name_key(t) for t in rule.tags),
                    types=frozenset(name_key(t) for t in rule.types),
                )
                for rule in parsed.intents
            ),
            urgency_by_priority=urgency,
            drop_tags=frozenset(name_key(t) for t in parsed.drop.tags),
            drop_types=frozenset(name_key(t) for t in parsed.drop.types),
            source=source,
        )

    @classmethod
    def from_file(cls, path: Path) -> TicketMapping:
        """Read and validate a mapping YAML file."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInputError(f"mapping file {path} cannot be read ({exc})") from exc
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"mapping file {path} is not valid YAML: {exc}") from exc
        return cls.from_mapping(raw, source=str(path))
