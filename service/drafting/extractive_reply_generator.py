"""The default drafter: deterministic, offline, every fact quoted from a cited passage.

Draft 1 takes the best sentences across all relevant passages (across the articles the
help centre names for the message's intent, when it names any); the next drafts each
answer from one document (the best, then the runner-ups), so an agent can choose when
the top document is not the right one. Identical drafts are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from service.drafting.draft import Citation, Draft, Passage
from service.drafting.draft_request import DraftRequest
from service.drafting.passage_text import plain_text
from service.drafting.reply_composer import SHORT_FORM_ANSWERS, AnswerLine, ReplyComposer
from service.drafting.reply_generator import Evidence, Generation, GeneratorContext
from service.drafting.sentence_selector import ScoredSentence, SentenceSelector, normalise

NAME = "extractive"


def verify_grounding(draft: Draft, passages: Sequence[Passage]) -> bool:
    """Every answer sentence is a verbatim substring of the plain text of its cited passage,
    and there is at least one."""
    answers = draft.answer_sentences
    if not answers:
        return False
    cited = {c.doc_id for c in draft.citations}
    quoted = {s.chunk_id for s in answers}
    texts = {
        p.chunk_id: plain_text(p.text)
        for p in passages
        if p.chunk_id in quoted and p.doc_id in cited
    }
    return all(s.text in texts.get(s.chunk_id or "", "") for s in answers)


class ExtractiveReplyGenerator:
    """Composes drafts from the most relevant passage sentences.

    Args:
        selector: ranks sentences against the message.
        composer: wraps them for the channel.
        max_sentences: most answer sentences in one draft.
        max_drafts: most drafts per message.
        relative_floor: a sentence joins the answer only when its score is at least this
            share of the best sentence's, so weak sentences do not pad a draft.
    """

    def __init__(
        self,
        *,
        selector: SentenceSelector,
        composer: ReplyComposer,
        max_sentences: int = 3,
        max_drafts: int = 3,
        relative_floor: float = 0.7,
    ) -> None:
        if max_sentences < 1 or max_drafts < 1:
            raise ValueError("max_sentences and max_drafts must be positive")
        self.selector = selector
        self.composer = composer
        self.max_sentences = max_sentences
        self.max_drafts = max_drafts
        self.relative_floor = relative_floor

    @property
    def name(self) -> str:
        """Generator name."""
        return NAME

    def close(self) -> None:
        """Nothing to release."""

    def generate(self, request: DraftRequest, evidence: Evidence, *, set_id: str) -> Generation:
        """Up to ``max_drafts`` grounded drafts, best first."""
        scored = evidence.scored
        if not scored.sentences:
            return Generation(drafts=(), generator=NAME)
        first_among = [i for p in evidence.preferred for i in scored.of_passage(p)] or None
        pool = first_among if first_among is not None else range(len(scored.sentences))
        top = max(scored.sentences[i].score for i in pool)
        floor = top * self.relative_floor if top > 0 else 0.0
        choices: list[list[ScoredSentence]] = [
            self.selector.select(
                scored, limit=self.max_sentences, among=first_among, min_score=floor
            )
        ]
        order = sorted(range(len(evidence.passages)), key=lambda i: -scored.passage_relevance[i])
        for index in order:
            among = scored.of_passage(index)
            if among:
                best_here = max(scored.sentences[i].score for i in among)
                choices.append(
                    self.selector.select(
                        scored,
                        limit=self.max_sentences,
                        among=among,
                        min_score=best_here * self.relative_floor,
                    )
                )
        drafts: list[Draft] = []
        seen: set[str] = set()
        pinned: str | None = None
        for position, chosen in enumerate(choices):
            if not chosen:
                continue
            draft = self.draft(request, evidence, chosen, draft_id=f"{set_id}-{len(drafts) + 1}")
            # Short forms keep only the best sentences, so two choices can read the same.
            key = normalise(draft.text)
            if key in seen:
                continue
            seen.add(key)
            drafts.append(draft)
            if position == 0 and evidence.preferred:
                pinned = draft.id
            if len(drafts) == self.max_drafts:
                break
        # Best first; ties keep the mixed draft ahead of the single-document ones. The draft
        # from the intent's own articles leads whatever its similarity score.
        ranked = sorted(drafts, key=lambda d: (d.id != pinned, -d.confidence))
        renumbered = tuple(replace(d, id=f"{set_id}-{i}") for i, d in enumerate(ranked, 1))
        return Generation(drafts=renumbered, generator=NAME)

    def draft(
        self,
        request: DraftRequest,
        evidence: Evidence,
        chosen: Sequence[ScoredSentence],
        *,
        draft_id: str,
    ) -> Draft:
        """One draft from chosen sentences: reading order, except on social where the best
        sentence that fits comes first."""
        passages = evidence.passages
        if request.channel in {"chat", "phone"}:
            chosen = sorted(chosen, key=lambda s: -s.score)[:SHORT_FORM_ANSWERS]
        if request.channel == "social":
            ordered = sorted(chosen, key=lambda s: -s.score)
        else:
            ordered = sorted(chosen, key=lambda s: (s.passage_index, s.sentence.start))
        answers = [
            AnswerLine(
                text=s.text,
                doc_id=passages[s.passage_index].doc_id,
                chunk_id=passages[s.passage_index].chunk_id,
                list_like=s.sentence.kind in {"list_item", "table_row", "list_group"},
            )
            for s in ordered
        ]
        used = list(dict.fromkeys(s.passage_index for s in ordered))
        citations = tuple(Citation.of(passages[i]) for i in used)
        composed = self.composer.compose(request, answers, citations)
        cited_docs = {a.doc_id for a in composed.sentences if a.role == "answer"}
        citations = tuple(c for c in citations if c.doc_id in cited_docs) or citations[:1]
        mean_score = sum(s.score for s in chosen) / len(chosen)
        best = max(s.score for s in evidence.scored.sentences)
        strength = min(1.0, max(0.0, mean_score / best)) if best > 0 else 0.0
        probability = max(evidence.passage_confidence[i] for i in used)
        confidence = round(max(0.0, min(1.0, probability * strength)), 4)
        draft = Draft(
            id=draft_id,
            text=composed.text,
            citations=citations,
            grounded=False,
            confidence=confidence,
            sentences=composed.sentences,
            generator=NAME,
        )
        return replace(draft, grounded=verify_grounding(draft, passages))


def build_extractive_generator(context: GeneratorContext) -> ExtractiveReplyGenerator:
    """``TRIAGE_DRAFTS_GENERATOR=extractive``: the offline default."""
    settings = context.settings
    return ExtractiveReplyGenerator(
        selector=context.selector,
        composer=context.composer,
        max_sentences=settings.drafts_max_sentences,
        max_drafts=settings.drafts_max_drafts,
    )
