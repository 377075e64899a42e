"""POST /v1/summarize: the hand-off summary of a conversation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from models.triager import ConversationTurn
from service.deps import PipelineThreadsDep, SummarizerDep
from service.schemas import (
    MAX_HISTORY_TURNS,
    MAX_TEXT_CHARS,
    DomainOut,
    EntityOut,
    NonBlankStr,
    TurnIn,
    WireModel,
    history_to_domain,
)
from service.summary.conversation_summary import ConversationSummarizer, ConversationSummary

router = APIRouter(tags=["summarize"])


class SummarizeRequest(WireModel):
    """A conversation, oldest turn first; ``text`` is the customer's newest message when
    it is not already the last turn of ``history``."""

    history: Annotated[list[TurnIn], Field(min_length=1, max_length=MAX_HISTORY_TURNS)]
    text: Annotated[NonBlankStr | None, Field(default=None, max_length=MAX_TEXT_CHARS)] = None

    def to_domain(self) -> tuple[ConversationTurn, ...]:
        """The turns as the summarizer reads them."""
        turns = history_to_domain(self.history)
        if self.text is None:
            return turns
        return (*turns, ConversationTurn("customer", self.text))


class CommitmentOut(DomainOut):
    """Something an agent promised, did or declined, and where it was said."""

    kind: str = Field(description="refund, replacement, callback, escalation, discount, ...")
    status: Literal["promised", "done", "declined"]
    conditional: bool = Field(description="Said under a condition ('if it has not arrived...')")
    turn: int = Field(ge=0, description="Index of the agent turn in the conversation")
    sentence: str


class OpenItemOut(DomainOut):
    """A promise not yet confirmed as done, or a customer request not answered yet."""

    kind: Literal["promise", "unanswered"]
    text: str
    turn: int = Field(ge=0)


class TurnSentimentOut(DomainOut):
    """Sentiment of one customer turn."""

    turn: int = Field(ge=0)
    label: Literal["negative", "neutral", "positive"]
    score: float = Field(ge=-1.0, le=1.0)


class SummaryResponse(BaseModel):
    """The hand-off summary: extractive, so every sentence is the customer's or an agent's."""

    wants: list[str] = Field(description="The customer's own request sentences")
    entities: list[EntityOut] = Field(
        description="Entities of the customer turns (offsets into the turn they come from)"
    )
    commitments: list[CommitmentOut]
    binding_commitments: list[CommitmentOut] = Field(
        description="The latest commitment of each kind, unless declined or conditional"
    )
    open_items: list[OpenItemOut]
    sentiment: list[TurnSentimentOut]
    trend: Literal["improving", "worsening", "steady", "unknown"]
    customer_turns: int
    agent_turns: int

    @classmethod
    def from_domain(cls, summary: ConversationSummary) -> SummaryResponse:
        """The wire form of a summary."""
        return cls(
            wants=list(summary.wants),
            entities=[EntityOut.model_validate(e) for e in summary.entities],
            commitments=[CommitmentOut.model_validate(c) for c in summary.commitments],
            binding_commitments=[
                CommitmentOut.model_validate(c) for c in summary.binding_commitments
            ],
            open_items=[OpenItemOut.model_validate(o) for o in summary.open_items],
            sentiment=[TurnSentimentOut.model_validate(s) for s in summary.sentiment],
            trend=summary.trend,
            customer_turns=summary.customer_turns,
            agent_turns=summary.agent_turns,
        )


def _summarize(summarizer: ConversationSummarizer, body: SummarizeRequest) -> SummaryResponse:
    return SummaryResponse.from_domain(summarizer.summarize(body.to_domain()))


# `async def` doing its work in one call in the pipeline threads
# (service/pipeline_threads.py): sentence splitting and sentiment are CPU work kept off the
# event loop, without a second round trip to validate the result.
@router.post("/summarize", response_model=SummaryResponse)
async def summarize(
    body: SummarizeRequest, summarizer: SummarizerDep, threads: PipelineThreadsDep
) -> SummaryResponse:
    """What the customer wants, what agents promised or did, what is still open, and the
    customer's sentiment turn by turn. Extractive: nothing is generated."""
    return await threads.run(_summarize, summarizer, body)
