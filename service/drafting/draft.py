"""Domain types of reply drafting: passages, drafts and what they cite."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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

    @classmethod
    def of(cls, passage: Passage) -> Citation:
        """The citation of a passage's document."""
        return cls(
            doc_id=passage.doc_id, title=passage.title, url=passage.url, snippet=passage.snippet
        )


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
