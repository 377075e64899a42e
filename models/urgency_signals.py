"""Explicit urgency signals: the features the urgency model reads next to the embedding.

Each signal is a number the model weighs (it is not a rule on its own) and, when it
fires, a short phrase a person can read in the result ("mentions unauthorized charges",
"delivery 9 days late"). Cue families follow the helpdesk's urgency definitions: money
wrongly taken, account takeover, safety, legal and privacy threats, blocked customers,
deadlines, repeat contact and tone.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import re2

from models.entity_extractor import Entity

_I = re.IGNORECASE


#: A letter a pattern spells in upper case (not an escape such as ``\W``).
_UPPER_LITERAL: Final = re.compile(r"(?<!\\)[A-Z]")


@dataclass(frozen=True)
class Cue:
    """A family of wordings that carry one urgency signal."""

    name: str
    phrase: str
    pattern: re.Pattern[str]
    #: ``pattern`` without IGNORECASE, for lower-cased ASCII text: on such text it
    #: matches where ``pattern`` matches the original (cue patterns spell lower-case
    #: letters only, checked here), at about half the cost of matching ignoring case.
    lowered: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if _UPPER_LITERAL.search(self.pattern.pattern):
            raise ValueError(f"cue {self.name!r} spells an upper-case letter")
        flags = self.pattern.flags & ~re.IGNORECASE
        object.__setattr__(self, "lowered", re.compile(self.pattern.pattern, flags))


_CUES: Final = (
    Cue(
        "unauthorized_charge",
        "mentions unauthorized charges",
        re.compile(
            r"\bun-?(?:authori[sz]ed|recogni[sz]ed)\b|\bfraud|\bscam|\bnever (?:authori[sz]ed|"
            r"made|placed|ordered|bought|signed up)|\b(?:did ?n'?o?t|didnt|dont|don't|do not|"
            r"never|cant|can't) (?:make|place|order|buy|recogni[sz]e|authori[sz]e|match)\b"
            # "I will never buy from you again" is a threat to leave, not a disowned charge.
            r"(?![^.!?\n]{0,40}\bagain\b)|"
            r"\b(?:not|wasn'?t|was not) me\b|without (?:my )?(?:consent|permission)|"
            r"\bi didn'?t (?:do|buy|make)|\bnot mine\b|stolen card|card (?:was )?(?:cloned|stolen)",
            _I,
        ),
    ),
    Cue(
        "account_takeover",
        "possible account takeover",
        re.compile(
            r"\bhack(?:ed|er)?\b|\bcompromised\b|someone (?:else )?(?:is )?(?:using|used|got into|"
            r"logged into|ordered|bought|accessed)|(?:password|e-?mail)(?: address)?(?: and \w+)? "
            r"(?:was |were |has been |got )?changed (?:without|and i|but i)|login (?:alert )?from "
            r"(?:another|a different)|\btaken over\b|logging into my account|was changed\b.{0,40}"
            r"\bdidn'?t\b|\bphishing\b|\blogin from\b",
            _I,
        ),
    ),
    Cue(
        "double_charge",
        "charged more than once",
        re.compile(
            r"\b(?:charged|billed|debited|taken|payments?|charges?)\b[^.!?\n]{0,30}\b(?:twice|"
            r"two times|2 times|three times|3 times|four times|4 times|\d+ times|double|again|"
            r"a (?:second|2nd|third|3rd) time)\b|\bsecond (?:charge|payment|debit)\b|"
            r"\bdouble[- ]?(?:charged|charge|payment|billed)|\bduplicate (?:charge|payment)|"
            r"\b(?:two|2|three|3) (?:identical )?(?:payments|charges|debits)\b|\bx\s?2\b",
            _I,
        ),
    ),
    Cue(
        "charged_after_cancel",
        "charged after cancelling",
        re.compile(
            r"\bcancel\w*\b[^.!?\n]{0,80}\b(?:charged|billed|debited|took|taken|still|anyway|"
            r"collect|leaving|left my account)|\b(?:charged|billed|debited|took)\b[^.!?\n]{0,40}"
            r"\b(?:after|despite) (?:i )?(?:cancel|deleting|returning|the return)|"
            r"\bstill (?:being )?(?:charged|billed)",
            _I,
        ),
    ),
    Cue(
        "safety",
        "safety or health risk",
        re.compile(
            r"\b(?:fire|smok(?:e|ing)|burn(?:ed|t|ing|s)?|scorch\w*|melt\w*|spark\w*|shock\w*|"
            r"electrocut\w*|explo\w+|overheat\w*|injur\w*|hurt|bleed\w*|hospital|doctor|vet|"
            r"allerg\w*|rash|hives|poison\w*|chok\w*|swallow\w*|toxic|mou?ld|sick|ill|"
            r"threw up|vomit\w*|collaps\w*|snapped|fell off|brakes? failed|acid|chemical burn|"
            r"swelled|hissing|magnets?|fell (?:on|off|from|down)|narrowly|nearly (?:hit|killed)|"
            r"could have (?:killed|hurt|injured))\b",
            _I,
        ),
    ),
    Cue(
        "legal",
        "legal or regulator threat",
        re.compile(
            r"\b(?:lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|court|small claims|"
            r"trading standards|consumer protection|ftc|bbb|better business bureau|ombudsman|"
            r"regulator|data protection authority|police|formal (?:complaint|notice))\b",
            _I,
        ),
    ),
    Cue(
        "chargeback",
        "chargeback or payment dispute",
        re.compile(
            r"\bcharge ?back|\bdisput\w+|\b(?:call|contact\w*|ask\w*|tell\w*) (?:my|the) bank\b|"
            r"\bcredit card company\b|\bclaw back\b|reverse (?:all )?(?:the )?charges",
            _I,
        ),
    ),
    Cue(
        "privacy",
        "privacy or data incident",
        re.compile(
            r"\bgdpr\b|\bdata (?:breach|leak|protection)|\bleak\w*\b[^.!?\n]{0,30}\b(?:data|"
            r"address|email|details|number|information)|\b(?:someone else'?s|another (?:person'?s|"
            r"customer'?s)|other people'?s|a stranger'?s|stranger'?s)\b|right to (?:erasure|be "
            r"forgotten)|\bpersonal (?:data|information|details)|\bbreach\b|\bexposed\b|"
            r"\bpublic\b[^.!?\n]{0,20}\binvoices?\b|card number",
            _I,
        ),
    ),
    Cue(
        "threat",
        "threat or harassment",
        re.compile(
            r"\bthreat\w*|\bharass\w*|\bstalk\w*|\babus\w+|\bcreep\w*|\bracist\b|\baggressive\b|"
            r"\bpushed me\b|\bcalled me\b|\bnames\b|\bunsafe\b|\bsafety\b|\bknows where i live|"
            r"\bhurt me\b|\bfear\b",
            _I,
        ),
    ),
    Cue(
        "delivery_missing",
        "delivery missing or late",
        re.compile(
            r"\bnever (?:arrived|came|got|received|delivered)|\b(?:not|hasn'?t|hasnt|haven'?t|"
            r"havent|didn'?t|didnt|still not|still hasn'?t) (?:yet )?(?:arrived|received|come|"
            r"came|been delivered|delivered|shipped)|\blost\b|\bmissing\b|\bstuck\b|\boverdue\b|"
            r"\blate\b|\bstill (?:no|nothing|waiting)|says delivered|"
            r"marked (?:as )?delivered|\bno (?:sign|delivery|parcel|package)\b|"
            r"\bwrong (?:address|person)|returned to sender|hasn'?t moved|\bempty box",
            _I,
        ),
    ),
    Cue(
        "item_problem",
        "damaged, defective or wrong item",
        re.compile(
            r"\b(?:damaged|broken|broke|crack(?:ed)?|defective|faulty|crushed|smashed|dented|"
            r"torn|tear|hole|stain\w*|scratch\w*|leak\w*|ruined|soaked|in pieces|bent|"
            r"doesn'?t work|does not work|not working|stopped working|won'?t (?:turn on|start|"
            r"charge|hold)|doesn'?t (?:charge|heat|fit|turn on)|wrong (?:item|size|colou?r|"
            r"model|product|prescription|version)|not what i ordered|instead of|different "
            r"(?:sizes|fabric|colour)|missing (?:the )?(?:parts?|pieces?|screws|keys|poles)|"
            r"used product|only (?:the|\d|two|half))\b",
            _I,
        ),
    ),
    Cue(
        "payment_failing",
        "payment failing",
        re.compile(
            r"\b(?:payment|card|checkout|cards?)\b[^.!?\n]{0,30}\b(?:fail\w*|declin\w*|reject\w*|"
            r"error|broken|won'?t go through|not going through|timing out|freez\w*)|"
            r"\bcan'?t (?:pay|checkout|check out|complete|finish)|\bcrash\w* [^.!?\n]{0,20}pay|"
            r"\bfreezes at payment",
            _I,
        ),
    ),
    Cue(
        "login_blocked",
        "cannot access account",
        re.compile(
            r"\b(?:can'?t|cant|cannot|unable to|won'?t let me|wont let me|can not) (?:log ?in|"
            r"sign ?in|access|get (?:back )?in(?:to)?)|\blocked out\b|\blocked\b|\bsuspended\b|"
            r"reset (?:link|email|button)[^.!?\n]{0,30}(?:expired|never|nothing|not|doesn'?t)|"
            r"\bcode never (?:arrives|came)|\bverification\b",
            _I,
        ),
    ),
    # Time running out for the customer: a date tied to a need ("need it by Friday",
    # "the wedding is on Saturday", "leave tomorrow"). A date alone is not a deadline:
    # "is tomorrow's webinar recorded?" or "deadline for the photo competition?" are idle.
    Cue(
        "deadline",
        "deadline soon",
        re.compile(
            r"\b(?:need\w*|want\w*|must|have to|has to|got to)\b[^.!?\n]{0,40}\b(?:by|before|"
            r"for|until) (?:tomorrow|tonight|today|the weekend|monday|tuesday|wednesday|"
            r"thursday|friday|saturday|sunday|the (?:wedding|party|event|trip|funeral|exam|"
            r"interview))\b|"
            r"\b(?:wedding|funeral|party|exam|interview|surgery|flight|trip|move|event)\b"
            r"[^.!?\n]{0,20}?(?:\b(?:is|are|starts?|begins?)|'s) (?:on )?(?:tomorrow|tonight|"
            r"today|(?:this )?(?:weekend|monday|tuesday|wednesday|thursday|friday|saturday|"
            r"sunday))\b|"
            r"\b(?:leav\w*|fly\w*|travel\w*|depart\w*)\b[^.!?\n]{0,15}\b(?:tomorrow|tonight)\b|"
            r"\b(?:due|closes?|expires?|ends?|runs? out) (?:today|tonight|tomorrow)\b|"
            r"\bdeadline (?:is )?(?:today|tonight|tomorrow)\b|\b(?:miss\w*|before) the deadline\b|"
            r"\burgent(?:ly)?\b|\basap\b|\bimmediately\b|\bright now\b|\bwithin (?:the )?"
            r"(?:hour|\d+ (?:hours?|minutes?))\b",
            _I,
        ),
    ),
    Cue(
        "cancel_before_ship",
        "must stop shipment",
        re.compile(
            r"\b(?:cancel|stop|halt)\w*\b[^.!?\n]{0,60}\b(?:before (?:it )?(?:ships?|shipping|"
            r"dispatch|goes out|going out)|ships? (?:today|tonight|tomorrow)|from (?:being )?"
            r"(?:dispatched|shipping|going out)|shipment|dispatch)",
            _I,
        ),
    ),
    Cue(
        "repeat_contact",
        "repeat contact",
        re.compile(
            r"\b(?:second|2nd|third|3rd|fourth|4th|fifth|5th) (?:time|message|email|complaint|"
            r"request)|\b(?:twice|again)\b[^.!?\n]{0,20}\b(?:asked|written|contacted|emailed)|"
            r"\b(?:already|have|i've|ive) (?:contacted|emailed|called|written|messaged|asked|"
            r"sent)\b|\b(?:several|multiple|many|numerous|\d+|five|four|three) (?:emails|calls|"
            r"times|messages|tickets)\b|no ?(?:one|body) (?:has )?(?:answered|replied|"
            r"responded|called)|\bunanswered\b|\bignor\w+|\bfollowing up\b|\bfollowed up\b|"
            r"\bcallback\b|\bcall me back\b|\bnobody (?:did|replied|answers)|\bstill no "
            r"(?:answer|reply|response)|\bchecking again\b|\bsent \d+ emails",
            _I,
        ),
    ),
    Cue(
        "manager",
        "asks for a manager",
        re.compile(
            r"\bmanager\b|\bsupervisor\b|\bescalat\w+|\bsomeone (?:senior|in charge)|\bhuman\b",
            _I,
        ),
    ),
    # Strong anger (insults, rage, "this is a joke", threats to leave) makes a message at
    # least high whatever it asks for; mild annoyance ("anger" below) does not. All-caps
    # shouting with a negative tone also counts (see ``UrgencySignalExtractor``).
    Cue(
        "strong_anger",
        "strong anger",
        re.compile(
            r"\b(?:idiots?|morons?|clowns?|incompetent|imbeciles?|muppets?|liars?|thieves|"
            r"crooks?|cowboys|pathetic|disgrace\w*|disgust(?:ed|ing)|shameful|wtf|fuck\w*|"
            r"shit\w*|bullshit|crap|screw you|"
            r"worst (?:company|shop|store|service|customer service|experience)|"
            r"furious|livid|fuming|seething|outraged|enraged|irate|pissed(?: off)?|"
            r"beyond (?:angry|furious|frustrated|annoyed)|"
            r"(?:so|extremely|really|very|absolutely|incredibly|beyond) (?:angry|mad|furious)|"
            r"(?:what|is|are|'re|'s|such|absolute|complete|total) (?:an? )?(?:absolute |"
            r"complete |total |bad |sick )?joke|"
            r"never (?:ever )?(?:again )?(?:buy|buying|order|ordering|shop|shopping|use|using|"
            r"come back|recommend\w*)\b[^.!?\n]{0,40}\bagain|never again|"
            r"(?:last|final) time i (?:buy|order|shop|use)|"
            r"(?:take|taking|took) my (?:business|money|custom) elsewhere|"
            r"lost (?:a|another|yourselves a|yourself a|a loyal) customer|"
            r"(?:so )?(?:done|finished) with (?:you|your|this (?:company|shop|store))|"
            r"switch\w* to (?:amazon|a competitor|your competitors?)|boycott\w*)\b",
            _I,
        ),
    ),
    Cue(
        "anger",
        "angry tone",
        re.compile(
            r"\b(?:ffs|damn|ridiculous|unacceptable|fed up|useless|rubbish|angry|annoyed|"
            r"annoying|frustrat\w*|hell|stupid|sort it out|insane|unreal|ugh)\b|\bseriously\?",
            _I,
        ),
    ),
    Cue(
        "praise_feedback",
        "feedback or praise",
        re.compile(
            r"\b(?:love|loving|lovely|great|awesome|amazing|excellent|perfect|cute|nice|"
            r"thank you|thanks|well done|kudos|shout ?out|suggestion|feedback|review|stars?|"
            r"idea|would be (?:nice|great|lovely)|just wanted to|compliment|fan|fyi|no rush|"
            r"not urgent|just curious|curious)\b",
            _I,
        ),
    ),
    Cue(
        "newsletter",
        "newsletter or marketing",
        re.compile(
            r"\bnewsletter|\bunsubscribe|\bmailing list|\bmarketing|\bpromo\w*|\bopt out",
            _I,
        ),
    ),
    Cue(
        "question",
        "routine question",
        re.compile(
            r"\bhow (?:do|can|long|does|many)\b|\bis (?:it|there)\b|\bcan i\b|\bdo you\b|"
            r"\bwhat(?:'s| is)\b|\bpolicy\b|\?",
            _I,
        ),
    ),
)

_NUMBER_WORDS: Final = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "couple of": 2,
    "a couple of": 2,
    "few": 3,
    "a few": 3,
    "several": 4,
    "sixteen": 16,
}
_UNIT_DAYS: Final = {"day": 1, "week": 7, "month": 30, "fortnight": 14}
_NUM = (
    r"(\d{1,3}|a couple of|couple of|a few|few|several|"
    + "|".join(sorted((w for w in _NUMBER_WORDS if " " not in w), key=len, reverse=True))
    + ")"
)
_UNIT = r"(day|week|month|fortnight)s?"
_ELAPSED: Final = (
    re.compile(rf"\b{_NUM}\s+(?:and a half\s+)?{_UNIT}\s+(?:late|overdue|behind)\b", _I),
    re.compile(rf"\b(?:late|overdue) by\s+{_NUM}\s+{_UNIT}\b", _I),
    re.compile(rf"\b{_NUM}\s+{_UNIT}(?: and a half)?\s+(?:ago|now|already|later)\b", _I),
    re.compile(
        rf"\b(?:waiting|waited|been|for|over|since|past|last)\s+(?:for\s+)?(?:over\s+|more than\s+"
        rf"|almost\s+|nearly\s+|about\s+|the (?:last|past)\s+)?{_NUM}\s+{_UNIT}\b",
        _I,
    ),
    re.compile(r"\bday\s+(\d{1,3})()\s+of\s+waiting\b", _I),
)
_LATE_WORDS: Final = re.compile(r"\b(?:late|overdue|delay\w*|behind|still|waiting)\b", _I)
_MONEY_NUMBER: Final = re.compile(r"\d[\d,.\s]*")
_LARGE_AMOUNT: Final = 500.0
_SHOUTING_TONE: Final = 0.0  # all-caps text at or below this sentiment reads as rage
_JOKING: Final = re.compile(r"\b(?:lol|lmao|haha\w*|jk|:\)|;\))", _I)

CUE_NAMES: Final = tuple(c.name for c in _CUES)

#: A look-around, which RE2 does not have.
_LOOKAROUND: Final = re.compile(r"\(\?<?[=!]")


class LoweredCueSet:
    r"""Which cues occur in lower-cased ASCII text, most of them in one pass.

    The cue loop searched each of the 22 patterns on its own, and each search walks the
    text again: about 0.3 ms per message of the bench mix, all of it holding the GIL the
    other request threads wait for. An RE2 set matches every pattern it holds in one
    linear pass (0.05 ms). RE2 has no look-arounds, so a cue whose pattern has one is
    searched alone, as before. Only for ASCII text: there RE2's ``\b``, ``\w`` and ``\s``
    mean what Python's do (on other text they do not, and the cues search one by one);
    checked to fire the same cues as the loop on public text (tests).
    """

    def __init__(self, cues: Sequence[Cue]) -> None:
        self.cues = tuple(cues)
        self._set = re2.Set.SearchSet(re2.Options())
        self._in_set: list[int] = []
        self._alone: list[int] = []
        for i, cue in enumerate(self.cues):
            if _LOOKAROUND.search(cue.lowered.pattern):
                self._alone.append(i)
            else:
                self._set.Add(cue.lowered.pattern)
                self._in_set.append(i)
        self._set.Compile()

    def fired(self, lowered: str) -> set[int]:
        """Indices of the cues found in ``lowered`` (ASCII, lower-cased)."""
        found = {self._in_set[j] for j in self._set.Match(lowered) or ()}
        found.update(i for i in self._alone if self.cues[i].lowered.search(lowered))
        return found


@functools.cache
def lowered_cue_set() -> LoweredCueSet:
    """The cues' set, compiled on first use (not at import)."""
    return LoweredCueSet(_CUES)


NUMERIC_FEATURES: Final = (
    "days_waited",
    "days_7_plus",
    "money_max",
    "money_large",
    "sentiment",
    "sentiment_very_negative",
    "caps_ratio",
    "exclamations",
    "prior_contacts",
)
FEATURE_NAMES: Final = CUE_NAMES + NUMERIC_FEATURES


@dataclass(frozen=True)
class UrgencySignals:
    """Signal values in ``FEATURE_NAMES`` order, plus the readable facts behind them."""

    values: npt.NDArray[np.float32]
    fired: tuple[str, ...]
    days_waited: float | None
    days_late: bool
    money_max: float | None
    money_text: str | None
    prior_contacts: int


def parse_amount(value: str) -> float | None:
    """Numeric value of a money entity ("$1,450.00", "2.300 EUR", "1499 dollars")."""
    match = _MONEY_NUMBER.search(value)
    if match is None:
        return None
    raw = re.sub(r"\s", "", match.group()).rstrip(".,")
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        raw = re.sub(r"[.,]", "", raw)
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d{1,2}", raw):
        raw = raw.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d{1,2}", raw):
        raw = raw.replace(".", "").replace(",", ".")
    else:
        raw = raw.replace(",", ".")
    try:
        return float(raw)
    except ValueError:
        return None


def elapsed_days(text: str) -> float | None:
    """Longest waiting time the text states, in days ("3 weeks ago", "9 days late")."""
    best: float | None = None
    for pattern in _ELAPSED:
        for m in pattern.finditer(text):
            qty_raw, unit_raw = m.group(1).lower(), (m.group(2) or "day").lower()
            qty = float(qty_raw) if qty_raw.isdigit() else float(_NUMBER_WORDS.get(qty_raw, 1))
            if "and a half" in m.group(0).lower():
                qty += 0.5
            days = qty * _UNIT_DAYS.get(unit_raw.rstrip("s"), 1)
            best = days if best is None else max(best, days)
    return best


_ASCII_LETTERS: Final = bytes(range(65, 91)) + bytes(range(97, 123))
_ASCII_CAPITALS: Final = bytes(range(65, 91))


def _letters_and_capitals(text: str) -> tuple[int, int]:
    """How many characters of ``text`` are letters, and how many of those upper case.

    ASCII text (nearly all) is counted by deleting A-Z/a-z bytes in C, where ``isalpha``
    and ``isupper`` hold exactly for those; a loop over the characters cost 20-40 us.
    """
    if text.isascii():
        raw = text.encode("ascii")
        return (
            len(raw) - len(raw.translate(None, _ASCII_LETTERS)),
            len(raw) - len(raw.translate(None, _ASCII_CAPITALS)),
        )
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters), sum(ch.isupper() for ch in letters)


class UrgencySignalExtractor:
    """Computes the signal vector of one message. Pure and thread-safe."""

    def extract(
        self,
        text: str,
        *,
        entities: Sequence[Entity] = (),
        sentiment: float = 0.0,
        prior_contacts: int = 0,
    ) -> UrgencySignals:
        """Signals of ``text`` (the cleaned body) with its entities and sentiment score."""
        letters, upper = _letters_and_capitals(text)
        caps = upper / letters if letters >= 12 else 0.0
        # Shouting a complaint is rage; shouting a joke or praise ("SO LONG LOL, i love it")
        # is not, hence the tone condition.
        shouting = caps >= 0.6 and sentiment <= _SHOUTING_TONE and not _JOKING.search(text)
        found = (
            lowered_cue_set().fired(text.lower())
            if text.isascii()
            else {i for i, c in enumerate(_CUES) if c.pattern.search(text)}
        )
        fired = tuple(
            c.name
            for i, c in enumerate(_CUES)
            if i in found or (c.name == "strong_anger" and shouting)
        )
        days = elapsed_days(text)
        late = days is not None and bool(_LATE_WORDS.search(text))
        amounts = [
            (a, e.value)
            for e in entities
            if e.type == "money" and (a := parse_amount(e.value)) is not None
        ]
        money_max, money_text = max(amounts) if amounts else (None, None)
        numeric = {
            "days_waited": min(math.log1p(days or 0.0) / math.log1p(60.0), 1.5),
            "days_7_plus": float(days is not None and days >= 7),
            "money_max": min(math.log10(1.0 + (money_max or 0.0)) / 4.0, 1.5),
            "money_large": float(money_max is not None and money_max >= _LARGE_AMOUNT),
            "sentiment": float(sentiment),
            "sentiment_very_negative": float(sentiment <= -0.5),
            "caps_ratio": float(caps >= 0.6),
            "exclamations": min(text.count("!"), 5) / 5.0,
            "prior_contacts": min(max(prior_contacts, 0), 3) / 3.0,
        }
        values = np.array(
            [float(name in fired) for name in CUE_NAMES] + [numeric[n] for n in NUMERIC_FEATURES],
            dtype=np.float32,
        )
        return UrgencySignals(
            values=values,
            fired=fired,
            days_waited=days,
            days_late=late,
            money_max=money_max,
            money_text=money_text,
            prior_contacts=max(prior_contacts, 0),
        )


def cue_phrase(name: str) -> str:
    """The readable phrase of a cue."""
    for cue in _CUES:
        if cue.name == name:
            return cue.phrase
    raise KeyError(name)
