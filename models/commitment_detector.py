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
    CREDIT = "credit"
    BILLING_ADJUSTMENT = "billing_adjustment"
    VISIT = "visit"
    BOOKING_CHANGE = "booking_change"
    ACCOUNT_SECURED = "account_secured"
    FIX = "fix"
    DOCUMENT = "document"
    FOLLOW_UP = "follow_up"


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
        r"back|reverse the charge|reversed the charge|charge (?:has been |was )?reversed|"
        r"recalled the payment|paid (?:back|out)|claim (?:up to|back)|(?:taxes|fare|deposit|"
        r"fee) back|will be paid)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.REPLACEMENT: re.compile(
        r"\b(?:replacement|replace (?:it|them|the \w+|your \w+)|replaced|exchange|"
        r"(?:send|sent|ship|dispatch|post|order)(?:ed|ing)? (?:you )?(?:out )?(?:a new|another|"
        r"a fresh|a second|new|the correct|the right|a free|two|a spare|a loan)\b|"
        r"(?:a )?new (?:one|card|sim|device|unit|router) (?:is|will be) on (?:its|the) way|"
        r"order (?:you )?a new one)",
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
        r"second[- ]line|supervisor|manager will|team leader|duty manager|"
        r"(?:raise|raised|log|logged) a (?:formal )?complaint|alerted the \w+ team|"
        r"passed your (?:feedback|complaint|case) (?:on )?to)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.DISCOUNT: re.compile(
        r"\b(?:discount|voucher|coupon|promo(?:tional)? code|\d{1,2} ?% off|compensation|"
        r"gift card)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.CREDIT: re.compile(
        r"\b(?:store credit|account credit|goodwill credit|service credit|credit of|credited "
        r"(?:your|the) account|(?:added|applied|put) (?:a |an )?(?:\S+ )?credit|credit "
        r"(?:note|to your)|compensation (?:\w+ )?on your (?:next )?bill|off your (?:next )?"
        r"bill)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.BILLING_ADJUSTMENT: re.compile(
        r"\b(?:waiv\w*|(?:removed|remove|reversed|reverse|cancel\w*) the (?:\w+ )?(?:fee|charge|"
        r"penalty|late fee)|adjust\w* (?:your|the) (?:bill|invoice|tariff|plan|payment)|"
        r"payment plan|corrected (?:your|the) (?:bill|invoice|meter reading)|re-?bill\w*|"
        r"(?:fee|charge|penalty) (?:has been |was |will be )?(?:waived|removed|refunded)|"
        r"(?:corrected|revised|new) (?:bill|invoice|statement)|stopped (?:the|your|friday's|"
        r"\w+'s) direct debit|(?:set up|arrange|arranged|agree|agreed) (?:a|an) (?:\w+[- ])?"
        r"(?:month |week )?(?:payment |instalment )?plan|bill will be recalculated|"
        r"recalculated)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.VISIT: re.compile(
        r"\b(?:engineer|technician|fitter|electrician|plumber|installer|inspector|team|"
        r"assistance)\b.{0,40}?\b(?:visit|come|call round|book\w*|attend|out to you|be with "
        r"you)|\b(?:re-?booked|booked|scheduled|arranged|sent) (?:a|an|the|your) (?:\w+ )?"
        r"(?:visit|appointment|engineer|technician|installation|delivery|slot|inspection|"
        r"roadside assistance|courier collection|collection)\b|arranged roadside assistance",
        re.IGNORECASE,
    ),
    CommitmentKind.BOOKING_CHANGE: re.compile(
        r"\b(?:re-?book\w*|moved (?:you|your (?:flight|booking|reservation|seat|appointment))|"
        r"changed (?:your|the) (?:flight|booking|reservation|seat|date|room|ticket)|"
        r"new (?:flight|booking|seat|ticket|reservation)|upgraded (?:you|your)|switched (?:you|"
        r"your)|booked you (?:at|on|into|onto|in)|corrected the (?:name|date|spelling)|"
        r"seat \w+ is yours|moved (?:the|your) (?:date|booking|appointment))\b",
        re.IGNORECASE,
    ),
    CommitmentKind.ACCOUNT_SECURED: re.compile(
        r"\b(?:froze|frozen|freeze|blocked|block|locked|lock|secured|suspended|cancelled|"
        r"canceled|stopped) (?:your|the) (?:\w+ )?(?:card|account|banking|access|sim|number|"
        r"login)|\b(?:reset|changed) (?:your|the) (?:password|pin|login)|signed out (?:all|"
        r"every)|logged out all|(?:added|put) you (?:to|on) (?:our|the) (?:priority|vulnerable)",
        re.IGNORECASE,
    ),
    CommitmentKind.FIX: re.compile(
        r"\b(?:fixed|fix (?:it|this|the)|resolved|pushed a fix|applied a (?:fix|patch)|"
        r"reset (?:your|the) (?:licen[cs]e|router|line|connection|device|activation)|"
        r"restored (?:your|the)|reactivated|re-?enabled|unblocked|lifted the (?:block|restriction)|"
        r"removed the (?:block|restriction|bar|limit|hold)|lifted the (?:bar|limit|hold)|"
        r"the fix is (?:live|out|in)|deactivat\w*|re-?ran|re-?run|re-?set it|sorted (?:it|that|"
        r"this)|back (?:on|online|up and running)|port-?back|added the reading|unlocked|"
        r"unfroze|unfrozen|working again)\b",
        re.IGNORECASE,
    ),
    CommitmentKind.DOCUMENT: re.compile(
        r"\b(?:sent|send|e-?mailed|email|attached|attach|forwarded|issued|issue) (?:you )?"
        r"(?:a |an |the |your )?(?:copy of (?:the |your )?)?(?:corrected |new |updated |vat )?"
        r"(?:invoice|receipt|statement|confirmation|certificate|letter|document|credit note|"
        r"label|return label|proof|e-?ticket|code|link)\b|\b(?:invoice|receipt|statement|"
        r"confirmation|certificate|letter|document|label|e-?ticket|code|link|bill) (?:is|has "
        r"been|was|will be) (?:being )?(?:sent|e-?mailed|issued|posted|on its way)|"
        r"\b(?:link|copy|letter|card|statement) by (?:e-?mail|post|text)|started a (?:full )?"
        r"export",
        re.IGNORECASE,
    ),
    CommitmentKind.FOLLOW_UP: re.compile(
        r"\b(?:get back to you|update you|keep you (?:updated|posted|informed)|follow up|"
        r"be in touch|let you know|check back|come back to you|reach out|message you|text you|"
        r"e-?mail you (?:when|once|as soon)|update you)\b",
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
        r"warehouse|bank)|(?:submitted|raised|opened|lodged|filed|logged|started) (?:a|an|your|"
        r"the) (?:\w+ )?(?:claim|case|file|report|investigation|dispute|trace|tracing file|"
        r"request)|will review|(?:is|are) reviewing|under review)\b",
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
# The action named as a topic, not undertaken: "the refund process", "a Cancel Order
# button", "the refund form" (one word, or a template's braces or quotes, may come between).
_TOPIC_AFTER = re.compile(
    r"[\s{}\[\]\"'\u201c\u201d]*(?:\w+[\s{}\[\]\"'\u201c\u201d]+)?(?:process|procedure|button|"
    r"option|form|status|policy|steps|link|tab|section|page|eligibility|requirements?)\b",
    re.IGNORECASE,
)
# Helping the customer towards the action, not doing it: "guide you through the steps to
# obtain your refund", "help you with the cancellation", "you are seeking a refund".
_FACILITATION = re.compile(
    r"\b(?:help(?:ing)?|guide|guiding|assist(?:ing)?|walk(?:ing)?) you\b|\bassist(?:ance)? "
    r"(?:with|in)\b|\byou (?:are|were) (?:\w+ )?(?:seeking|expecting|requesting|asking)\b|"
    r"\b(?:to (?:obtain|initiate|submit|request|complete|track)|tracking)\b",
    re.IGNORECASE,
)
_NEGATION_WINDOW = 48  # characters before the action a negation reaches
_CLAUSE = re.compile(r"[;,:]|\b(?:but|however|although|instead|and)\b", re.IGNORECASE)


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
            for sentence in MESSAGE.split_lines(turn.text):
                for commitment in self._in_sentence(sentence, index):
                    if commitment.kind not in seen:
                        seen.add(commitment.kind)
                        found.append(commitment)
        return found

    def _in_sentence(self, sentence: str, turn: int) -> Iterable[Commitment]:
        if sentence.rstrip().endswith("?"):
            return  # an offer or a question, not a commitment
        for kind, pattern in _ACTIONS.items():
            # Every mention counts: "only refundable within 30 days ... so I can't refund
            # it" is a refusal even though its first mention is not negated.
            found = [
                (status, match.start())
                for match in pattern.finditer(sentence)
                if (status := _status(sentence, match.start(), match.end())) is not None
            ]
            if not found:
                continue
            declined = [at for status, at in found if status is CommitmentStatus.DECLINED]
            status, at = (CommitmentStatus.DECLINED, declined[0]) if declined else found[0]
            yield Commitment(kind, status, _conditional(sentence, at), turn, sentence.strip())


def latest_binding(commitments: Iterable[Commitment]) -> dict[CommitmentKind, Commitment]:
    """Per kind, the latest commitment, kept only if it binds (a later refusal of the
    same kind cancels an earlier promise)."""
    latest: dict[CommitmentKind, Commitment] = {}
    for commitment in commitments:
        latest[commitment.kind] = commitment
    return {kind: c for kind, c in latest.items() if c.binding}


def _status(sentence: str, action_at: int, action_end: int) -> CommitmentStatus | None:
    # A negation reaches back a few words, never across a clause ("I can't refund it, but
    # I've escalated ..." refuses the refund, not the escalation).
    window_start = max(0, action_at - _NEGATION_WINDOW)
    for boundary in _CLAUSE.finditer(sentence, window_start, action_at):
        window_start = boundary.end()
    if _NEGATION.search(sentence, window_start, action_at + 1) is not None:
        return CommitmentStatus.DECLINED
    if (
        _TOPIC_AFTER.match(sentence, action_end) is not None
        or _FACILITATION.search(sentence, window_start, action_at) is not None
    ):
        return None
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
