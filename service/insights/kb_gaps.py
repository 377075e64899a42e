"""Knowledge-base gaps: the questions the help centre does not answer, grouped, with what
agents actually replied, as draft articles.

A message is a gap signal when drafting found no grounded answer (``needs_agent``), or
when an agent rejected the drafts or rewrote most of one (edit distance >= ``min_edit``).
Signals are grouped by meaning (the same clustering as emerging issues), and a group
becomes a proposal:

* a **title** from the group's distinctive terms against every other suggestion;
* the **facts agents sent**: sentences of the agents' final texts, greetings and
  sign-offs left out, ranked by how many of the group's replies say something similar
  (a fact two agents wrote independently is more likely policy than improvisation);
* a **draft article** in the shape ``PUT /v1/kb/documents/{id}`` takes, for an editor to
  check and publish. Nothing is published automatically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.message_clusters import (
    cluster_embeddings,
    distinctive_terms,
    representatives,
    unit_rows,
)
from models.protocols import Encoder
from models.sentence_splitter import MESSAGE

_PLEASANTRY = re.compile(
    r"^\s*(?:hi|hello|hey|dear|thanks|thank you|many thanks|kind regards|best regards|regards|"
    r"best|cheers|sorry|apologies|we apologi[sz]e|i'm sorry|i am sorry|hope this helps|"
    r"let us know|let me know|feel free|have a (?:nice|great|good)|if you have any)\b",
    re.IGNORECASE,
)
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class GapSignal:
    """One suggestion that showed a gap, with the agent's final reply when there is one."""

    suggestion_id: str
    message: str
    needs_agent: bool
    outcome: str | None
    final_text: str | None


@dataclass(frozen=True)
class DraftArticle:
    """A proposed help-centre article (``PUT /v1/kb/documents/{id}`` shape)."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class KbGap:
    """One group of unanswered questions and what agents told those customers."""

    label: str
    title: str
    size: int
    needs_agent: int
    rejected: int
    edited: int
    examples: tuple[str, ...]
    facts: tuple[str, ...]
    article: DraftArticle
    suggestion_ids: tuple[str, ...]


@dataclass(frozen=True)
class KbGapSettings:
    """Knobs of the gap report.

    Attributes:
        min_group: smallest group reported (a single question is anecdote).
        distance_threshold: average cosine distance within a group.
        same_fact: cosine similarity at which two agent sentences say the same thing.
        max_facts: facts kept per group.
    """

    min_group: int = 3
    distance_threshold: float = 0.6
    same_fact: float = 0.75
    max_facts: int = 6


class KbGapFinder:
    """Groups gap signals and proposes articles. Thread-safe; encodes with ``encoder``."""

    def __init__(self, encoder: Encoder, settings: KbGapSettings | None = None) -> None:
        self.encoder = encoder
        self.settings = settings or KbGapSettings()

    def find(self, signals: Sequence[GapSignal], *, background: Sequence[str]) -> list[KbGap]:
        """Gap groups among ``signals``, largest first; ``background`` (the other messages
        of the period) makes the titles distinctive."""
        if len(signals) < self.settings.min_group:
            return []
        texts = [s.message for s in signals]
        vectors = unit_rows(np.asarray(self.encoder.encode(texts)))
        groups = cluster_embeddings(
            vectors,
            distance_threshold=self.settings.distance_threshold,
            min_cluster_size=self.settings.min_group,
        )
        count = int(groups.max()) + 1 if len(groups) else 0
        members = [[int(i) for i in np.flatnonzero(groups == k)] for k in range(count)]
        terms = distinctive_terms(
            [[texts[i] for i in rows] for rows in members],
            [*background, *(t for i, t in enumerate(texts) if groups[i] < 0)],
        )
        gaps = []
        for k, rows in enumerate(members):
            group = [signals[i] for i in rows]
            title = _title(terms[k], fallback=f"Unanswered questions {k + 1}")
            facts = self._facts([s.final_text for s in group if s.final_text])
            chosen, _, _ = representatives(vectors[rows], [texts[i] for i in rows], k=5)
            examples = tuple(texts[rows[j]] for j in chosen)
            gaps.append(
                KbGap(
                    label="_".join(terms[k][:2]).replace(" ", "_") or f"gap_{k + 1}",
                    title=title,
                    size=len(group),
                    needs_agent=sum(s.needs_agent for s in group),
                    rejected=sum(s.outcome == "rejected" for s in group),
                    edited=sum(s.outcome == "edited" for s in group),
                    examples=examples,
                    facts=facts,
                    article=_article(title, examples, facts),
                    suggestion_ids=tuple(s.suggestion_id for s in group),
                )
            )
        return sorted(gaps, key=lambda g: -g.size)

    def _facts(self, replies: Sequence[str]) -> tuple[str, ...]:
        """Agent sentences ranked by how many distinct replies say something similar."""
        sentences: list[str] = []
        owner: list[int] = []
        for r, reply in enumerate(dict.fromkeys(replies)):
            for sentence in MESSAGE.split_lines(reply):
                text = " ".join(sentence.split())
                if len(text.split()) >= 4 and not _PLEASANTRY.match(text):
                    sentences.append(text)
                    owner.append(r)
        if not sentences:
            return ()
        vectors = unit_rows(np.asarray(self.encoder.encode(sentences)))
        similar = (vectors @ vectors.T) >= self.settings.same_fact
        owners = np.asarray(owner)
        support = [len(set(owners[similar[i]].tolist())) for i in range(len(sentences))]
        picked: list[int] = []
        for i in sorted(range(len(sentences)), key=lambda i: (-support[i], owner[i], i)):
            if any(similar[i, j] for j in picked):
                continue  # the same fact in other words
            picked.append(i)
            if len(picked) == self.settings.max_facts:
                break
        return tuple(sentences[i] for i in picked)


def _title(terms: Sequence[str], *, fallback: str) -> str:
    words: list[str] = []
    for term in terms[:2]:
        for word in term.split():
            if word not in words:
                words.append(word)
    return " ".join(words).capitalize() if words else fallback


def _article(title: str, examples: Sequence[str], facts: Sequence[str]) -> DraftArticle:
    slug = _SLUG.sub("-", title.lower()).strip("-") or "draft"
    questions = "\n".join(f"- {e}" for e in examples)
    answer = "\n\n".join(facts) if facts else "(No agent reply yet: write the answer here.)"
    text = (
        f"# {title}\n\n{answer}\n\n"
        f"<!-- Draft from unanswered customer questions such as:\n{questions}\n-->\n"
    )
    return DraftArticle(id=f"drafts/{slug}", title=title, text=text)
