"""What an agent has already promised or done in a conversation: refund, replacement,
callback and the like.

A repeat contact must never get an answer that contradicts an earlier reply ("your order
is on its way" after "we cancelled it and will refund you"), and an agent taking over a
thread needs to see what was promised without reading it all. Agents write commitments
in a small number of grammatical shapes, so this reads each agent sentence for three
things, all with linear-time patterns:

* an **action** from a short lexicon per kind (refund, replacement, callback, ...);
* **who acts and when**: a first-person future ("we'll", "I am going to", "you will
  receive") makes it a promise, a perfect or past ("I've issued", "has been sent") makes
  it done;
* a **negation** in the few words before the action ("we can't refund") makes it declined,
  a condition ("if it has not arrived by Friday we will ...") marks it conditional, and a
  question ("would you like a refund?") is only an offer, not a commitment.

The lexicon is deliberately small and the evaluation (``triage summaries evaluate``)
runs on conversations written apart from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from models.sentence_splitter import MESSAGE


class CommitmentKind(StrEnum):
    """What the agent committed to."""

    REFUND = "refund"
    REPLACEMENT = "replacement"
    CALLBACK = "callback"
    ESCALATION = "escalation"
    DISCOUNT = "discount"
    CANCELLATION = "cancellation"
    INVESTIGATION = "investigation"
    REDELIVERY = "redelivery"


class CommitmentStatus(StrEnum):
    """Where the commitment stands as the agent wrote it."""

    PROMISED = "promised"
    DONE = "done"
    DECLINED = "declined"


class Turn(Protocol):
    """One turn of a conversation (``models.triager.ConversationTurn`` fits)."""

    @property
    def role(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Commitment:
    """One commitment found in an agent turn."""

    kind: CommitmentKind
    status: CommitmentStatus
    conditional: bool
    turn: int
    sentence: str

    @property
    def binding(self) -> bool:
        """Promised or done without a condition: a later answer must not contradict it."""
        return self.status is not CommitmentStatus.DECLINED and not self.conditional


_ACTIONS: dict[CommitmentKind, re.Pattern[str]] = {
    CommitmentKind.REFUND: re.compile(
        r"\b(?:refund\w*|reimburs\w*|money back|credited back|credit (?:it|this|that|the \w+) "
        r"back|reverse the charge|reversed the charge|charge (?:has been |was )?reversed)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.REPLACEMENT: re.compile(
        r"\b(?:replacement|replace (?:it|them|the \w+|your \w+)|replaced|"
        r"(?:send|ship|dispatch|post)(?:ed|ing)? (?:you )?(?:out )?(?:a new|another|a fresh|"
        r"a second|new)\b)",
        re.IGNORECASE,
    ),
    CommitmentKind.CALLBACK: re.compile(
        r"\b(?:call(?:ing)? you (?:back|tomorrow|today|on|at|this|first)|call-?back|"
        r"give you a (?:call|ring)|ring you|phone you|(?:booked|scheduled|arranged) a call|"
        r"will call you|contact you by phone)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.ESCALATION: re.compile(
        r"\b(?:escalat\w*|(?:passed|passing|pass|forwarded|forwarding|forward|referred|"
        r"refer|raised|raising|raise) (?:this|it|your \w+(?: \w+)?|the (?:issue|case|matter|"
        r"complaint)) (?:on )?(?:to|with)|specialist team|senior (?:team|agent|colleague)|"
        r"second[- ]line|supervisor|manager will)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.DISCOUNT: re.compile(
        r"\b(?:discount|voucher|coupon|promo(?:tional)? code|\d{1,2} ?% off|goodwill|"
        r"store credit|account credit|compensation|credit of|gift card)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.CANCELLATION: re.compile(
        r"\b(?:cancel(?:led|ed|ling|ing)?|cancellation)\b(?! (?:button|fee|policy|form|page))",
        re.IGNORECASE,
    ),
    CommitmentKind.INVESTIGATION: re.compile(
        r"\b(?:look(?:ing)? into|investigat\w*|(?:open|opened|opening|raise|raised|file|filed|"
        r"lodge|lodged) an? (?:case|ticket|claim|investigation|trace|report)|trace (?:the|your) "
        r"(?:parcel|package|order|shipment|payment)|check with (?:the )?(?:courier|carrier|"
        r"warehouse|bank))\b",
        re.IGNORECASE,
    ),
    CommitmentKind.REDELIVERY: re.compile(
        r"\b(?:re-?deliver\w*|re-?schedul\w* (?:the |your )?deliver\w*|new delivery (?:date|slot)|"
        r"deliver(?:ed)? again|re-?sen[dt])\b",
        re.IGNORECASE,
    ),
}

# Who acts and when. Future: the agent side will do it; done: it has happened.
_FUTURE = re.compile(
    r"\b(?:will|shall|going to|happy to|let me|allow me to|is being|are being)\b|'ll\b|"
    r"\b(?:i|we) (?:can|could)\b|\b(?:i'm|i am|we're|we are) (?:now )?\w+ing\b|"
    r"\bshould (?:arrive|reach|be|see|appear|show)\b",
    re.IGNORECASE,
)
_DONE = re.compile(
    r"\b(?:(?:i|we)(?:'ve| have)(?: now| just| already)?|(?:has|have) (?:now |just |already )?"
    r"been|(?:was|were) (?:\w+ed|sent|made|issued)|(?:i|we) (?:just |already )?(?:\w+ed|sent|"
    r"made|issued|put|got|set up|went ahead)|is on (?:its|the) way|are on (?:their|the) way|"
    r"(?:is|are) (?:now )?(?:cancelled|canceled|refunded|booked|scheduled|processed|"
    r"confirmed|approved))\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:can't|cannot|can not|won't|will not|unable|not able|not possible|no longer|"
    r"don't|do not|isn't|is not|aren't|are not|wasn't|haven't|hasn't|didn't|not eligible|"
    r"not entitled|no refund|not offer|unfortunately|afraid|refuse\w*|decline\w*|denied|"
    r"outside (?:the|our)|not be)\b",
    re.IGNORECASE,
)
_CONDITION = re.compile(
    r"\b(?:if|once|as soon as|should it|in case|provided|unless|when (?:it|we|you|the))\b",
    re.IGNORECASE,
)
_NEGATION_WINDOW = 48  # characters before the action a negation reaches


class CommitmentDetector:
    """Finds commitments in the agent turns of a conversation. Stateless, thread-safe."""

    def detect(self, turns: Sequence[Turn], *, agent_role: str = "agent") -> list[Commitment]:
        """Every commitment in the agent turns, in conversation order; for each kind at
        most one per turn (the first sentence that commits to it)."""
        found: list[Commitment] = []
        for index, turn in enumerate(turns):
            if turn.role != agent_role:
                continue
            seen: set[CommitmentKind] = set()
            for sentence in _sentences(turn.text):
                for commitment in self._in_sentence(sentence, index):
                    if commitment.kind not in seen:
                        seen.add(commitment.kind)
                        found.append(commitment)
        return found

    def _in_sentence(self, sentence: str, turn: int) -> Iterable[Commitment]:
        if sentence.rstrip().endswith("?"):
            return  # an offer or a question, not a commitment
        for kind, pattern in _ACTIONS.items():
            match = pattern.search(sentence)
            if match is None:
                continue
            status = _status(sentence, match.start(), match.end())
            if status is None:
                continue
            conditional = _conditional(sentence, match.start())
            yield Commitment(kind, status, conditional, turn, sentence.strip())


def latest_binding(commitments: Iterable[Commitment]) -> dict[CommitmentKind, Commitment]:
    """Per kind, the latest commitment, kept only if it binds (a later refusal of the
    same kind cancels an earlier promise)."""
    latest: dict[CommitmentKind, Commitment] = {}
    for commitment in commitments:
        latest[commitment.kind] = commitment
    return {kind: c for kind, c in latest.items() if c.binding}


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        out.extend(MESSAGE.split(line))
    return out


def _status(sentence: str, action_at: int, action_end: int) -> CommitmentStatus | None:
    window_start = max(0, action_at - _NEGATION_WINDOW)
    if _NEGATION.search(sentence, window_start, action_at + 1) is not None:
        return CommitmentStatus.DECLINED
    head = sentence[:action_end]
    future = _last_match_end(_FUTURE, head)
    done = _last_match_end(_DONE, sentence)
    if future is None and done is None:
        return None
    if done is not None and (future is None or done > future):
        return CommitmentStatus.DONE
    return CommitmentStatus.PROMISED


def _conditional(sentence: str, action_at: int) -> bool:
    condition = _CONDITION.search(sentence)
    return condition is not None and (
        condition.start() < action_at or condition.start() < len(sentence) // 2
    )


def _last_match_end(pattern: re.Pattern[str], text: str) -> int | None:
    end = None
    for match in pattern.finditer(text):
        end = match.end()
    return end
