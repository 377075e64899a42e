"""Domain types of reply drafting: what a generator is given and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.triager import ConversationTurn

SentenceRole = Literal["greeting", "acknowledgement", "answer", "next_step", "sign_off"]


@dataclass(frozen=True)
class Passage:
    """A retrieved knowledge-base passage a draft may quote (numbered from 1 in prompts)."""

    doc_id: str
    title: str
    url: str | None
    chunk_id: str
    text: str
    snippet: str
    score: float
    heading: str | None = None
    #: When ``text`` is the whole article: the chunk the search matched, which alone
    #: decides how relevant the passage is (as when it was fitted, see the gate).
    matched: str | None = None


@dataclass(frozen=True)
class Citation:
    """The document a draft quotes."""

    doc_id: str
    title: str
    url: str | None
    snippet: str


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of a draft and where it comes from.

    ``answer`` sentences carry ``doc_id``/``chunk_id``: for the extractive generator the
    text is a verbatim substring of ``plain_text`` of that passage. A short article is
    quoted as a whole; its passage is then named by the document id. The other roles are
    the generator's own wording and state no facts about the shop.
    """

    text: str
    role: SentenceRole
    doc_id: str | None = None
    chunk_id: str | None = None


@dataclass(frozen=True)
class Draft:
    """A reply an agent can send, edit or discard."""

    id: str
    text: str
    citations: tuple[Citation, ...]
    grounded: bool
    confidence: float
    sentences: tuple[DraftSentence, ...] = ()
    generator: str = "extractive"

    @property
    def answer_sentences(self) -> tuple[DraftSentence, ...]:
        """The sentences that state facts from the knowledge base."""
        return tuple(s for s in self.sentences if s.role == "answer")


@dataclass(frozen=True)
class DraftRequest:
    """The message to answer and the tone signals triage found in it.

    Only ``text``/``subject`` and the passages ever reach an external generator; the
    name is used by the local templates alone.
    """

    text: str
    subject: str | None = None
    channel: str = "email"
    customer_name: str | None = None
    intent: str | None = None
    #: Calibrated confidence of ``intent`` and whether a second intent was close; an
    #: ambiguous intent does not pick articles (see ``SuggestionService``).
    intent_confidence: float | None = None
    intent_ambiguous: bool = False
    sentiment: str | None = None
    urgency: str | None = None
    history: tuple[ConversationTurn, ...] = ()

    @property
    def query(self) -> str:
        """Subject and body as one search text."""
        return f"{self.subject}\n{self.text}" if self.subject else self.text


@dataclass(frozen=True)
class DraftSet:
    """Drafts for one message, with what they were built from.

    ``needs_agent`` is set when the knowledge base held nothing relevant enough: the
    only draft is then a holding reply and an agent has to answer.
    """

    id: str
    drafts: tuple[Draft, ...]
    passages: tuple[Passage, ...]
    needs_agent: bool
    relevance: float
    generator: str
    fallback_reason: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def doc_ids(self) -> list[str]:
        """Retrieved documents, best first, each once."""
        return list(dict.fromkeys(p.doc_id for p in self.passages))
