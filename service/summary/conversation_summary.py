"""The hand-off summary of a conversation: what the customer wants, what was promised or
done already, what is still open, and how the customer's mood moved.

Extractive and offline: the customer's own request sentences, the entities the triage
extractor finds, the agent commitments of :mod:`models.commitment_detector` and VADER
sentiment per customer turn. Nothing is generated, so nothing can be invented; an agent
taking a thread over reads the customer's words and the agents' own commitments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from models.commitment_detector import Commitment, CommitmentDetector, CommitmentStatus
from models.entity_extractor import Entity, EntityExtractor
from models.request_sentences import split_segments
from models.sentiment_analyzer import SentimentAnalyzer
from models.triager import ConversationTurn

CUSTOMER = "customer"
AGENT = "agent"
#: A change of VADER compound score between the first and last customer turns that
#: counts as a trend rather than noise.
TREND_STEP = 0.3
MAX_WANTS = 3

Trend = Literal["improving", "worsening", "steady", "unknown"]


@dataclass(frozen=True)
class TurnSentiment:
    """The sentiment of one customer turn."""

    turn: int
    label: str
    score: float


@dataclass(frozen=True)
class OpenItem:
    """Something still owed to the customer: a promise not yet confirmed as done, or a
    customer request no agent turn has answered yet."""

    kind: Literal["promise", "unanswered"]
    text: str
    turn: int


@dataclass(frozen=True)
class ConversationSummary:
    """Everything an agent needs before answering the next turn."""

    wants: tuple[str, ...]
    entities: tuple[Entity, ...]
    commitments: tuple[Commitment, ...]
    open_items: tuple[OpenItem, ...]
    sentiment: tuple[TurnSentiment, ...]
    trend: Trend
    customer_turns: int
    agent_turns: int

    @property
    def binding_commitments(self) -> tuple[Commitment, ...]:
        """Commitments still in force: the latest of each kind, not declined, unconditional."""
        latest: dict[str, Commitment] = {}
        for commitment in self.commitments:
            latest[commitment.kind] = commitment
        return tuple(c for c in latest.values() if c.binding)


class ConversationSummarizer:
    """Builds :class:`ConversationSummary` objects. Thread-safe after construction."""

    def __init__(
        self,
        *,
        commitments: CommitmentDetector | None = None,
        entities: EntityExtractor | None = None,
        sentiment: SentimentAnalyzer | None = None,
    ) -> None:
        self.commitments = commitments or CommitmentDetector()
        self.entities = entities or EntityExtractor()
        self.sentiment = sentiment or SentimentAnalyzer()

    def summarize(self, turns: Sequence[ConversationTurn]) -> ConversationSummary:
        """Summarise ``turns`` (oldest first; the newest customer message may be last)."""
        customer = [(i, t) for i, t in enumerate(turns) if t.role == CUSTOMER]
        commitments = tuple(self.commitments.detect(turns, agent_role=AGENT))
        sentiments = tuple(
            TurnSentiment(i, s.label, s.score)
            for i, s in ((i, self.sentiment.analyze(t.text)) for i, t in customer)
        )
        return ConversationSummary(
            wants=_wants(customer),
            entities=self._entities(customer),
            commitments=commitments,
            open_items=_open_items(turns, commitments),
            sentiment=sentiments,
            trend=_trend(sentiments),
            customer_turns=len(customer),
            agent_turns=len(turns) - len(customer),
        )

    def _entities(self, customer: list[tuple[int, ConversationTurn]]) -> tuple[Entity, ...]:
        seen: set[tuple[str, str]] = set()
        found = []
        for _, turn in customer:
            for entity in self.entities.extract(turn.text):
                key = (entity.type, entity.value.casefold())
                if key not in seen:
                    seen.add(key)
                    found.append(entity)
        return tuple(found)


def _wants(customer: list[tuple[int, ConversationTurn]]) -> tuple[str, ...]:
    """The most request-like sentence of the first customer turn and of the latest ones,
    in conversation order, without repeats."""
    picked: list[str] = []
    for _, turn in customer[:1] + customer[-2:]:
        segments = [s for s in split_segments(turn.text) if s.request_score > 0]
        if not segments:
            continue
        best = max(segments, key=lambda s: s.request_score)
        text = " ".join(best.text.split())
        if text not in picked:
            picked.append(text)
    return tuple(picked[:MAX_WANTS])


def _open_items(
    turns: Sequence[ConversationTurn], commitments: Sequence[Commitment]
) -> tuple[OpenItem, ...]:
    items: list[OpenItem] = []
    latest: dict[str, Commitment] = {}
    for commitment in commitments:
        latest[commitment.kind] = commitment
    for commitment in latest.values():
        if commitment.status is CommitmentStatus.PROMISED:
            items.append(OpenItem("promise", commitment.sentence, commitment.turn))
    last_agent = max((i for i, t in enumerate(turns) if t.role == AGENT), default=-1)
    for index in range(last_agent + 1, len(turns)):
        turn = turns[index]
        if turn.role != CUSTOMER:
            continue
        segments = [s for s in split_segments(turn.text) if s.request_score > 0]
        if segments:
            best = max(segments, key=lambda s: s.request_score)
            items.append(OpenItem("unanswered", " ".join(best.text.split()), index))
    return tuple(items)


def _trend(sentiments: Sequence[TurnSentiment]) -> Trend:
    if len(sentiments) < 2:
        return "unknown"
    change = sentiments[-1].score - sentiments[0].score
    if change >= TREND_STEP:
        return "improving"
    if change <= -TREND_STEP:
        return "worsening"
    return "steady"
