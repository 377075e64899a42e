"""Puts a draft together around its answer sentences, in the form the channel needs.

The answer sentences are quoted from the knowledge base; everything this module adds
(greeting, acknowledgement, next steps, sign-off) is about the conversation and states
nothing about the shop's policies. E-mail and web get a complete, polite message; chat
and phone a few sentences; social a public reply within 280 characters with no
personal or order data that moves the conversation to a private message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from models.entity_extractor import EMAIL_ADDRESS
from service.drafting.draft import Citation, DraftSentence, SentenceRole
from service.drafting.draft_request import DraftRequest
from service.orders.customer_identity import first_name

SOCIAL_LIMIT = 280
# Chat and phone replies quote at most this many sentences (the generator passes the best).
SHORT_FORM_ANSWERS = 2
COMPLAINT_INTENTS = frozenset({"complaint"})
ORDER_INTENTS = frozenset(
    {
        "cancel_order",
        "change_order",
        "change_shipping_address",
        "track_order",
        "delivery_period",
        "get_refund",
        "track_refund",
        "payment_issue",
        "complaint",
        "get_invoice",
    }
)
CARD_INTENTS = frozenset({"payment_issue", "check_payment_methods"})
_LONG_NUMBER = re.compile(r"\d{5,}")


@dataclass(frozen=True)
class AnswerLine:
    """An answer sentence with its provenance and how it reads best (list-like or prose)."""

    text: str
    doc_id: str
    chunk_id: str
    list_like: bool = False


@dataclass(frozen=True)
class ComposedReply:
    """The draft text and its sentences in order."""

    text: str
    sentences: tuple[DraftSentence, ...]


def is_public_safe(text: str) -> bool:
    """No e-mail address or long number (order, phone, card) that a public reply must not show."""
    return not EMAIL_ADDRESS.search(text) and not _LONG_NUMBER.search(text)


class ReplyComposer:
    """Wraps answer sentences into a reply for the message's channel.

    Args:
        signature: how e-mail replies are signed (the respond policy's signature).
    """

    def __init__(self, *, signature: str = "The Customer Care team") -> None:
        if "{" in signature or "}" in signature:
            raise ValueError("signature must be plain text")
        self.signature = signature

    # -- tone ------------------------------------------------------------------------------
    @staticmethod
    def upset(request: DraftRequest) -> bool:
        """A complaint, a negative message, or one that is urgent."""
        return (
            request.intent in COMPLAINT_INTENTS
            or request.sentiment == "negative"
            or request.urgency in {"high", "critical"}
        )

    def acknowledgement(self, request: DraftRequest, *, short: bool = False) -> str:
        """One sentence that fits sentiment and urgency: an apology when upset, never cheer
        on a complaint."""
        urgent = request.urgency in {"high", "critical"}
        if request.intent in COMPLAINT_INTENTS:
            if short:
                return "I'm sorry about this."
            return "I'm sorry about your experience, and thank you for telling us about it."
        if request.sentiment == "negative":
            if short:
                return "Sorry for the trouble."
            return "I'm sorry for the trouble this has caused."
        if urgent:
            return (
                "I understand this is urgent."
                if short
                else "I understand this is urgent, so here is what you need to know."
            )
        return "Thanks for your message." if short else "Thank you for getting in touch."

    def greeting(self, request: DraftRequest) -> str:
        """Greeting with the first name when known ("Hi Jane,"); never a name in public."""
        name = None if request.channel == "social" else first_name(request.customer_name)
        if request.channel == "phone":
            return (
                f"Hello {name}, thank you for calling." if name else "Hello, thank you for calling."
            )
        if request.channel in {"email", "web"}:
            return f"Hi {name}," if name else "Hello,"
        # Short forms run on in one line: "Hi Jane. Sorry for the trouble. ..."
        return f"Hi {name}." if name else "Hi there."

    def next_steps(
        self, request: DraftRequest, citations: Sequence[Citation], *, channel: str
    ) -> list[str]:
        """Concrete things the customer can do next."""
        steps: list[str] = []
        top = citations[0] if citations else None
        has_order = bool(request.order_ids)
        if channel in {"email", "web"}:
            if top is not None and top.url:
                steps.append(
                    f"You can find all the details in our article “{top.title}”: {top.url}"
                )
            if request.intent in CARD_INTENTS:
                steps.append(
                    "For your security, please never send your full card number; "
                    "the last four digits are enough if we need them."
                )
            if request.intent in COMPLAINT_INTENTS:
                steps.append(
                    "If you reply with your order number and what happened, "
                    "I will look into it personally."
                    if not has_order
                    else "I will look into your order personally and get back to you."
                )
            elif request.intent in ORDER_INTENTS and not has_order:
                steps.append("If you send me your order number, I can check the details for you.")
            else:
                steps.append("If anything is still unclear, just reply to this message.")
            return steps
        if channel == "chat":
            if request.intent in ORDER_INTENTS and not has_order:
                return ["Could you send me your order number so I can check it for you?"]
            if top is not None and top.url:
                return [f"More details: {top.url}"]
            return ["Is there anything else I can help you with?"]
        if channel == "phone":
            if request.intent in ORDER_INTENTS and not has_order:
                return ["Could you give me your order number so I can check it for you?"]
            return ["Is there anything else I can help you with?"]
        return steps

    # -- forms ----------------------------------------------------------------------------
    def compose(
        self, request: DraftRequest, answers: Sequence[AnswerLine], citations: Sequence[Citation]
    ) -> ComposedReply:
        """The draft in the form of ``request.channel``."""
        channel = request.channel
        if channel == "social":
            return self._social(request, answers, citations)
        if channel in {"chat", "phone"}:
            return self._short(request, answers[:SHORT_FORM_ANSWERS], citations, channel=channel)
        return self._letter(request, answers, citations, channel=channel)

    def holding(self, request: DraftRequest) -> ComposedReply:
        """A short reply that promises an answer and states no facts (nothing relevant found)."""
        channel = request.channel
        parts: list[tuple[str, SentenceRole]] = [(self.greeting(request), "greeting")]
        if self.upset(request):
            parts.append(
                (self.acknowledgement(request, short=channel != "email"), "acknowledgement")
            )
        if channel == "social":
            parts.append(("Please send us a direct message and we will look into it.", "next_step"))
            return self._join(parts, sep=" ")
        if channel in {"chat", "phone"}:
            parts.append(
                ("Let me check this with a colleague and come back to you shortly.", "next_step")
            )
            return self._join(parts, sep=" ")
        if not self.upset(request):
            parts.append(("Thank you for your message.", "acknowledgement"))
        parts.append(
            (
                "I'm looking into your question and will get back to you with an answer "
                "as soon as possible.",
                "next_step",
            )
        )
        parts.append((f"Kind regards,\n{self.signature}", "sign_off"))
        return self._letter_text(parts)

    def _letter(
        self,
        request: DraftRequest,
        answers: Sequence[AnswerLine],
        citations: Sequence[Citation],
        *,
        channel: str,
    ) -> ComposedReply:
        greeting = DraftSentence(self.greeting(request), "greeting")
        ack = DraftSentence(self.acknowledgement(request), "acknowledgement")
        answer_sentences = [DraftSentence(a.text, "answer", a.doc_id, a.chunk_id) for a in answers]
        lines: list[str] = []
        for answer in answers:
            if answer.list_like:
                lines.append(f"- {answer.text}")
            elif lines and not lines[-1].startswith("- "):
                lines[-1] += f" {answer.text}"
            else:
                lines.append(answer.text)
        body = "\n".join(lines)
        steps = [
            DraftSentence(s, "next_step")
            for s in self.next_steps(request, citations, channel=channel)
        ]
        sign_off = DraftSentence(f"Kind regards,\n{self.signature}", "sign_off")
        paragraphs = [greeting.text, ack.text, body.strip(), "\n".join(s.text for s in steps)]
        text = "\n\n".join([p for p in paragraphs if p] + [sign_off.text])
        return ComposedReply(text, (greeting, ack, *answer_sentences, *steps, sign_off))

    def _short(
        self,
        request: DraftRequest,
        answers: Sequence[AnswerLine],
        citations: Sequence[Citation],
        *,
        channel: str,
    ) -> ComposedReply:
        parts: list[tuple[str, SentenceRole]] = [(self.greeting(request), "greeting")]
        if self.upset(request):
            parts.append((self.acknowledgement(request, short=True), "acknowledgement"))
        sentences = [DraftSentence(t, r) for t, r in parts]
        sentences += [DraftSentence(a.text, "answer", a.doc_id, a.chunk_id) for a in answers]
        sentences += [
            DraftSentence(s, "next_step")
            for s in self.next_steps(request, citations, channel=channel)
        ]
        return ComposedReply(" ".join(s.text for s in sentences), tuple(sentences))

    def _social(
        self, request: DraftRequest, answers: Sequence[AnswerLine], citations: Sequence[Citation]
    ) -> ComposedReply:
        greeting = DraftSentence(self.greeting(request), "greeting")
        ack = DraftSentence(self.acknowledgement(request, short=True), "acknowledgement")
        invite = DraftSentence(
            "Please send us a direct message so we can help with your order."
            if request.intent in ORDER_INTENTS
            else "Send us a direct message if you need more help.",
            "next_step",
        )
        url = next((c.url for c in citations if c.url), None)
        link = DraftSentence(f"Details: {url}", "next_step") if url else None
        head = [greeting, ack] if self.upset(request) else [greeting]
        safe = [a for a in answers if is_public_safe(a.text)]
        for answer in safe:
            body = DraftSentence(answer.text, "answer", answer.doc_id, answer.chunk_id)
            for tail in ([link, invite] if link else [invite], [invite]):
                candidate = [*head, body, *[t for t in tail if t is not None]]
                text = " ".join(s.text for s in candidate)
                if len(text) <= SOCIAL_LIMIT:
                    return ComposedReply(text, tuple(candidate))
        # No quoted sentence fits: point to the article and the private channel instead.
        fallback = [*head, *([link] if link else []), invite]
        text = " ".join(s.text for s in fallback)
        if len(text) > SOCIAL_LIMIT:
            fallback = [*head, invite]
            text = " ".join(s.text for s in fallback)
        return ComposedReply(text, tuple(fallback))

    @staticmethod
    def _join(parts: Sequence[tuple[str, SentenceRole]], *, sep: str) -> ComposedReply:
        sentences = tuple(DraftSentence(t, r) for t, r in parts)
        return ComposedReply(sep.join(s.text for s in sentences), sentences)

    @staticmethod
    def _letter_text(parts: Sequence[tuple[str, SentenceRole]]) -> ComposedReply:
        sentences = tuple(DraftSentence(t, r) for t, r in parts)
        greeting, *middle, sign_off = sentences
        text = "\n\n".join([greeting.text, " ".join(s.text for s in middle), sign_off.text])
        return ComposedReply(text, sentences)
