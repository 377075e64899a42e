"""The operator-editable decision policy of ``/v1/respond``, read and checked at startup."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
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

    @property
    def intents(self) -> frozenset[str]:
        """Every intent label the policy names (checked against the loaded classifier)."""
        return self.auto_reply_intents | self.human_request_intents

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

    def check_intents(self, known: Iterable[str], *, model: str) -> None:
        """Compare the policy's intents with the labels the classifier can predict.

        Intents the model lacks are logged (a smaller or retrained model may not have
        them all); a policy none of whose auto-reply intents exist is refused, since it
        could never answer anything and is almost certainly a typo or the wrong model.
        """
        labels = set(known)
        unknown = sorted(self.intents - labels)
        if unknown:
            logger.warning(
                "respond policy %s names intents the intent model %s does not predict: %s",
                self.source,
                model,
                ", ".join(unknown),
            )
        if self.auto_reply_intents and not self.auto_reply_intents & labels:
            raise PolicyError(
                f"respond policy {self.source}: none of the auto_reply intents "
                f"({', '.join(sorted(self.auto_reply_intents))}) are labels of the intent "
                f"model {model}"
            )

    @classmethod
    def default(cls) -> RespondPolicy:
        """The shipped policy."""
        return load_policy(DEFAULT_POLICY_PATH)


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
