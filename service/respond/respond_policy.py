"""The operator-editable decision policy of ``/v1/respond``, read and checked at startup."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.errors import TriageError
from models.triager import Channel
from models.urgency_classifier import LEVELS as URGENCY_LEVELS
from models.urgency_classifier import UrgencyLevel
from service.settings import DEFAULT_RESPOND_POLICY as DEFAULT_POLICY_PATH

logger = logging.getLogger(__name__)


class PolicyError(TriageError):
    """The policy file is missing, unreadable or says something impossible."""

    code = "invalid_policy"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AutoReply(_Strict):
    intents: Annotated[list[str], Field(max_length=100)] = ["track_order", "delivery_period"]
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.6
    languages: Annotated[list[str], Field(min_length=1, max_length=50)] = ["en"]
    channels: list[Channel] = ["email", "chat", "web", "social", "phone"]
    max_urgency: Literal["low", "normal", "high"] = "high"


class _Escalate(_Strict):
    urgency: Annotated[list[UrgencyLevel], Field(min_length=1)] = ["critical"]
    #: Emergency score at or above which a message escalates as critical; None keeps the
    #: urgency model's calibrated threshold (its ``critical`` level).
    critical_score: Annotated[float | None, Field(gt=0.0, lt=1.0)] = None
    human_request_intents: list[str] = ["contact_human_agent"]
    human_request_patterns: Annotated[list[str], Field(max_length=100)] = []

    @field_validator("urgency")
    @classmethod
    def _critical_always(cls, value: list[str]) -> list[str]:
        if "critical" not in value:
            raise ValueError("must include 'critical': critical messages always go to a human")
        return value

    @field_validator("human_request_patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for i, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"pattern #{i} {pattern!r} is not a regular expression ({exc})"
                ) from None
        return value


class _Orders(_Strict):
    recent_limit: Annotated[int, Field(ge=1, le=100)] = 10
    recent_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 90


class _Conversation(_Strict):
    repeat_contact_turns: Annotated[int, Field(ge=1, le=50)] = 2


class _Reply(_Strict):
    public_channels: list[Channel] = ["social"]
    timezone: str = "UTC"
    signature: Annotated[str, Field(min_length=1, max_length=200)] = "The Customer Care team"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
        return value

    @field_validator("signature")
    @classmethod
    def _no_placeholders(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("must be plain text, without { } placeholders")
        return value


class _Suggestions(_Strict):
    max_passages: Annotated[int, Field(ge=1, le=10)] = 3


class _PolicyFile(_Strict):
    version: Literal[1]
    auto_reply: _AutoReply = _AutoReply()
    escalate: _Escalate = _Escalate()
    orders: _Orders = _Orders()
    conversation: _Conversation = _Conversation()
    reply: _Reply = _Reply()
    suggestions: _Suggestions = _Suggestions()


@dataclass(frozen=True)
class RespondPolicy:
    """What ``ResponseDecider`` may do on its own, and when it must hand over."""

    auto_reply_intents: frozenset[str]
    min_confidence: float
    languages: frozenset[str]
    auto_reply_channels: frozenset[str]
    max_auto_reply_urgency: str
    escalate_urgency: frozenset[str]
    #: Operator's emergency-score threshold (None: the model's own critical decision).
    critical_score_threshold: float | None
    human_request_intents: frozenset[str]
    human_request_patterns: tuple[re.Pattern[str], ...]
    recent_order_limit: int
    recent_order_max_age_days: int
    repeat_contact_turns: int
    public_channels: frozenset[str]
    timezone: ZoneInfo
    signature: str
    #: Knowledge-base passages retrieved per message to draft from.
    max_passages: int
    source: str = "built-in"
    version: str = "1"

    def urgency_allows_auto_reply(self, level: str | None) -> bool:
        """``level`` is at most ``max_auto_reply_urgency`` (unknown urgency counts as normal)."""
        rank = URGENCY_LEVELS.index(level) if level in URGENCY_LEVELS else 1
        return rank <= URGENCY_LEVELS.index(self.max_auto_reply_urgency)

    def escalates_urgency(self, level: str | None, critical_score: float | None) -> bool:
        """Whether urgency alone sends the message to a person.

        With ``critical_score_threshold`` set and a score known, *critical* is decided
        by the score (an operator moves the trade-off between missed emergencies and
        false alarms without retraining); other listed levels escalate by level.
        """
        if self.critical_score_threshold is not None and critical_score is not None:
            if critical_score >= self.critical_score_threshold:
                return True
            return level is not None and level != "critical" and level in self.escalate_urgency
        return level is not None and level in self.escalate_urgency

    @property
    def shipped(self) -> bool:
        """This is the policy file shipped with the service, not an operator's copy."""
        return Path(self.source).resolve() == DEFAULT_POLICY_PATH.resolve()

    def for_model(
        self, known: Iterable[str], *, model: str, auto_reply_off: Iterable[str] = ()
    ) -> RespondPolicy:
        """The policy as it applies to one intent model: auto-reply only for intents the
        model predicts and its manifest does not mark ``auto_reply: false``.

        A team serving its own taxonomy starts with the shipped policy (its order intents
        simply stay unanswered, said in one startup line); an intent whose spec says
        ``auto_reply: false`` is never answered automatically, whatever a policy lists.
        An operator's own policy none of whose auto-reply intents the model predicts is
        refused: that is a typo or the wrong model, and it could never answer anything.

        Raises:
            PolicyError: an operator's policy names auto-reply intents, none of them labels
                of the model.
        """
        labels = set(known)
        off = set(auto_reply_off)
        missing = self.auto_reply_intents - labels
        if self.auto_reply_intents and missing == self.auto_reply_intents and not self.shipped:
            raise PolicyError(
                f"respond policy {self.source}: none of the auto_reply intents "
                f"({', '.join(sorted(self.auto_reply_intents))}) are labels of the intent "
                f"model {model}"
            )
        vetoed = (self.auto_reply_intents & labels) & off
        allowed = self.auto_reply_intents - missing - vetoed
        unknown_human = self.human_request_intents - labels
        parts = [f"auto-reply on for {', '.join(sorted(allowed)) or 'no intent'}"]
        if missing:
            parts.append(f"off for {', '.join(sorted(missing))} (not labels of the model)")
        if vetoed:
            parts.append(
                f"off for {', '.join(sorted(vetoed))} (auto_reply: false in the model's manifest)"
            )
        if unknown_human:
            parts.append(
                f"human-request intents {', '.join(sorted(unknown_human))} not labels "
                "of the model (the human_request_patterns still apply)"
            )
        log = logger.warning if (missing or unknown_human) and not self.shipped else logger.info
        log("respond policy %s with intent model %s: %s", self.source, model, "; ".join(parts))
        return replace(
            self,
            auto_reply_intents=frozenset(allowed),
            human_request_intents=frozenset(self.human_request_intents & labels),
        )

    @classmethod
    def default(cls) -> RespondPolicy:
        """The shipped policy."""
        return load_policy(DEFAULT_POLICY_PATH)


def manifest_auto_reply_off(params: Mapping[str, object], *, model: str) -> frozenset[str]:
    """The intents an intent model's manifest marks ``auto_reply: false``.

    ``triage intents build`` records ``params.auto_reply`` as ``{intent: bool}``; models
    trained otherwise have none, and every intent may then be auto-answered if a policy
    lists it.

    Raises:
        PolicyError: ``auto_reply`` is there but is not a mapping of intent to true/false.
    """
    recorded = params.get("auto_reply")
    if recorded is None:
        return frozenset()
    if not isinstance(recorded, Mapping) or not all(
        isinstance(k, str) and isinstance(v, bool) for k, v in recorded.items()
    ):
        raise PolicyError(
            f"intent model {model}: manifest params.auto_reply must map each intent to "
            "true or false"
        )
    return frozenset(k for k, v in recorded.items() if not v)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def load_policy(path: Path) -> RespondPolicy:
    """Read and validate a policy file.

    Raises:
        PolicyError: naming the file and the offending key.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"respond policy {path}: cannot read it ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PolicyError(f"respond policy {path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"respond policy {path}: expected a mapping with 'version: 1' at the top")
    try:
        parsed = _PolicyFile.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"respond policy {path}: {_describe(exc)}") from exc
    auto, esc, reply = parsed.auto_reply, parsed.escalate, parsed.reply
    return RespondPolicy(
        auto_reply_intents=frozenset(auto.intents),
        min_confidence=auto.min_confidence,
        languages=frozenset(lang.lower() for lang in auto.languages),
        auto_reply_channels=frozenset(auto.channels),
        max_auto_reply_urgency=auto.max_urgency,
        escalate_urgency=frozenset(esc.urgency),
        critical_score_threshold=esc.critical_score,
        human_request_intents=frozenset(esc.human_request_intents),
        human_request_patterns=tuple(
            re.compile(p, re.IGNORECASE) for p in esc.human_request_patterns
        ),
        recent_order_limit=parsed.orders.recent_limit,
        recent_order_max_age_days=parsed.orders.recent_max_age_days,
        repeat_contact_turns=parsed.conversation.repeat_contact_turns,
        public_channels=frozenset(reply.public_channels),
        timezone=ZoneInfo(reply.timezone),
        signature=reply.signature.strip(),
        max_passages=parsed.suggestions.max_passages,
        source=str(path),
        version=hashlib.sha256(raw).hexdigest()[:12],
    )
