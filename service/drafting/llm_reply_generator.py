"""Optional drafts from a self-hosted LLM behind an OpenAI-compatible chat endpoint.

vLLM, Ollama and llama.cpp's server all speak ``POST {base_url}/chat/completions``. The
prompt holds only the customer's message and the numbered passages: no name, e-mail or
order data. The reply must cite the passages it uses as ``[1]``, ``[2]``; a reply that
cites nothing, cites a passage it was not given, is too long for the channel, or does
not arrive in time (timeout, 5xx, malformed JSON) is discarded and the extractive drafts
are returned instead, with the reason recorded.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import httpx
from pydantic import SecretStr

from models.sentence_splitter import CITED
from service.drafting.draft import Citation, Draft, DraftSentence
from service.drafting.draft_request import DraftRequest
from service.drafting.extractive_reply_generator import build_extractive_generator
from service.drafting.passage_text import plain_text
from service.drafting.reply_composer import SOCIAL_LIMIT
from service.drafting.reply_generator import (
    Evidence,
    Generation,
    GeneratorContext,
    ReplyGenerator,
)

logger = logging.getLogger(__name__)

NAME = "openai_chat"
_MARKER = re.compile(r"\[(\d{1,3})\]")
# Starts only where a blank run starts: otherwise every blank of a long run rescans the rest.
_MARKERS_WITH_SPACE = re.compile(r"(?<![ \t])[ \t]*+(?:\[\d{1,3}+\])+")
_FORMS = {
    "email": "a complete, polite e-mail: greeting, answer, next steps, sign-off",
    "web": "a complete, polite reply to a web-form message",
    "chat": "a short chat message of two to four sentences",
    "phone": "what the agent says on the phone: two to four short sentences, no links",
    "social": "a public social-media reply under 250 characters with no personal or order "
    "data that invites the customer to a direct message",
}
SYSTEM_PROMPT = (
    "You draft replies for a customer-support agent of an online shop. Use only facts "
    "from the numbered passages. End every sentence that uses a passage with its number "
    "in square brackets, like [1]. Never invent policies, dates, prices or order details; "
    "if the passages do not answer the message, say that you will check and come back."
)


class LlmReplyError(Exception):
    """Internal: the endpoint's reply cannot be used (``reason`` is recorded)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def build_messages(request: DraftRequest, evidence: Evidence) -> list[dict[str, str]]:
    """The chat messages: instructions, then the numbered passages and the message only."""
    numbered = "\n\n".join(
        f"[{i}] {p.title}\n{plain_text(p.text)}" for i, p in enumerate(evidence.passages, 1)
    )
    form = _FORMS.get(request.channel, _FORMS["email"])
    user = (
        f"Passages:\n\n{numbered}\n\nCustomer message:\n{request.query}\n\n"
        f"Write {form}. Cite passages as [n]."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _content(body: Any) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LlmReplyError("malformed_response", "no choices[0].message.content") from exc
    if not isinstance(content, str) or not content.strip():
        raise LlmReplyError("empty_response")
    return content.strip()


class LlmReplyGenerator:
    """Drafts from an OpenAI-compatible chat-completions endpoint, checked for citations.

    Args:
        base_url: endpoint root, e.g. ``http://127.0.0.1:11434/v1``.
        model: model name the server knows.
        api_key: sent as a bearer token when set.
        timeout_s: total time allowed for one completion.
        fallback: generator whose drafts are used when the reply is unusable (and which
            fills the remaining draft slots when it is usable).
        max_drafts: most drafts returned.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        fallback: ReplyGenerator,
        api_key: SecretStr | None = None,
        timeout_s: float = 10.0,
        max_drafts: int = 3,
        max_tokens: int = 512,
    ) -> None:
        self.model = model
        self.fallback = fallback
        self.max_drafts = max_drafts
        self.max_tokens = max_tokens
        headers = {"Authorization": f"Bearer {api_key.get_secret_value()}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout_s), headers=headers
        )

    @property
    def name(self) -> str:
        """Registry name with the model."""
        return f"{NAME}:{self.model}"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion's text.

        Raises:
            LlmReplyError: timeout, connection failure, error status or malformed reply.
        """
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.2,
            "max_tokens": self.max_tokens,
            "stream": False,
        }
        try:
            response = self._client.post("/chat/completions", json=payload)
        except httpx.TimeoutException as exc:
            raise LlmReplyError("timeout", str(exc)) from exc
        except httpx.HTTPError as exc:
            raise LlmReplyError("connection_error", str(exc)) from exc
        if response.status_code != 200:
            raise LlmReplyError(f"http_{response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise LlmReplyError("malformed_response", "body is not JSON") from exc
        return _content(body)

    def check(self, raw: str, request: DraftRequest, evidence: Evidence, *, draft_id: str) -> Draft:
        """Turn the model's reply into a draft, or refuse it.

        Raises:
            LlmReplyError: no citation, a citation of an unknown passage, or too long
                for the channel.
        """
        numbers = [int(n) for n in _MARKER.findall(raw)]
        if not numbers:
            raise LlmReplyError("uncited")
        unknown = sorted({n for n in numbers if not 1 <= n <= len(evidence.passages)})
        if unknown:
            raise LlmReplyError("unknown_citation", f"cites {unknown}")
        text = _MARKERS_WITH_SPACE.sub("", raw).strip()
        if request.channel == "social" and len(text) > SOCIAL_LIMIT:
            raise LlmReplyError("too_long", f"{len(text)} characters on a public channel")
        sentences = []
        uncited_claims = 0
        # Sentences end after their markers: "fact. [1]" stays one sentence.
        for piece in CITED.split(raw):
            cited = [int(n) for n in _MARKER.findall(piece)]
            clean = _MARKERS_WITH_SPACE.sub("", piece).strip()
            if cited:
                passage = evidence.passages[cited[0] - 1]
                sentences.append(DraftSentence(clean, "answer", passage.doc_id, passage.chunk_id))
            else:
                # Greetings and sign-offs are short; a longer uncited sentence is a claim.
                uncited_claims += len(clean.split()) > 6 and not clean.endswith(",")
                sentences.append(DraftSentence(clean, "acknowledgement"))
        used = list(dict.fromkeys(numbers))
        citations = tuple(Citation.of(evidence.passages[n - 1]) for n in used)
        citations = tuple({c.doc_id: c for c in citations}.values())
        grounded = uncited_claims == 0
        confidence = evidence.confidence * (1.0 if grounded else 0.5)
        return Draft(
            id=draft_id,
            text=text,
            citations=citations,
            grounded=grounded,
            confidence=round(confidence, 4),
            sentences=tuple(sentences),
            generator=self.name,
        )

    def generate(self, request: DraftRequest, evidence: Evidence, *, set_id: str) -> Generation:
        """The model's draft first, then the fallback's; the fallback's alone on failure."""
        backup = self.fallback.generate(request, evidence, set_id=set_id)
        try:
            raw = self.complete(build_messages(request, evidence))
            draft = self.check(raw, request, evidence, draft_id=f"{set_id}-1")
        except LlmReplyError as exc:
            logger.warning("LLM draft discarded (%s); using %s drafts", exc, backup.generator)
            return replace(backup, fallback_reason=exc.reason)
        rest = [
            replace(d, id=f"{set_id}-{i}")
            for i, d in enumerate(backup.drafts[: self.max_drafts - 1], start=2)
        ]
        return Generation(drafts=(draft, *rest), generator=self.name)


def build_llm_generator(context: GeneratorContext) -> LlmReplyGenerator:
    """``TRIAGE_DRAFTS_GENERATOR=openai_chat``, falling back to the extractive drafts."""
    settings = context.settings
    endpoint = settings.drafts_llm
    # Settings refuses openai_chat without an endpoint; this only tells the type checker.
    assert endpoint is not None
    return LlmReplyGenerator(
        base_url=endpoint.base_url,
        model=endpoint.model,
        api_key=endpoint.api_key,
        timeout_s=endpoint.timeout_s,
        fallback=build_extractive_generator(context),
        max_drafts=settings.drafts_max_drafts,
    )
