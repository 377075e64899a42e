"""Write the sample Northwave helpdesk exports from our own texts (``ticket_texts.py``).

    python -m training.data.tickets.write_exports

Deterministic (fixed seed): running it again rewrites the same four files. The exports
mimic what the helpdesks really produce: Zendesk's ticket API list (``tickets``), its CSV
export (same tickets), a Freshdesk API ticket list (HTML ``description`` plus
``description_text``, numeric priority/status/source, ``spam`` flag) and a generic CSV
from a web form and chat tool with its own column names.
"""

from __future__ import annotations

import csv
import html
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from training.data.tickets.ticket_texts import (
    AGENT_REPLIES,
    ASKS,
    BACKSTORY,
    COMPLIMENTS,
    DEVICE_LINES,
    DISCLAIMERS,
    FIRST_NAMES,
    FOREIGN,
    GREETINGS,
    INTENTS,
    JOB_SIGNATURES,
    LAST_NAMES,
    LOW_DETAILS,
    SIGN_OFFS,
    SPAM,
    STREETS,
    TOWNS,
    TV_SERVICE,
    TV_SUBJECTS,
    URGENT_DETAILS,
)

HERE = Path(__file__).resolve().parent
PRIORITIES = ("low", "normal", "high", "urgent")
SUPPORT = "Northwave Support <support@northwave.example>"


@dataclass
class Message:
    """A customer message before rendering: what they wrote now, signature, quoted thread."""

    paragraphs: list[str]
    signature: list[str] = field(default_factory=list)
    quote_header: str = ""
    quote: list[str] = field(default_factory=list)
    outlook_quote: bool = False


@dataclass
class Draft:
    """A ticket before it is written in a helpdesk's format."""

    number: int
    kind: str  # intent name, "tv", "compliment", "foreign", "spam", "empty"
    intent: str | None
    subject: str
    message: Message
    priority: str | None
    channel: str
    created_at: datetime
    first: str
    last: str
    tagged: bool = True
    spam: bool = False

    @property
    def email(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}@example.com"


class Writer:
    """Draws names, dates and wrappers from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def fill(self, text: str) -> str:
        r = self.rng
        return text.format(
            account=f"NW-{r.randint(100000, 999999)}",
            address=f"{r.randint(1, 120)} {r.choice(STREETS)}, {r.choice(TOWNS)}",
            phone=f"07700 900{r.randint(100, 999)}",
        )

    def typos(self, text: str) -> str:
        """Chat-style: lower case, no apostrophes, a letter swapped or dropped."""
        r = self.rng
        words = text.lower().replace("'", "").split()
        for _ in range(r.randint(1, 2)):
            i = r.randrange(len(words))
            w = words[i]
            if len(w) > 4 and w.isalpha():
                j = r.randrange(1, len(w) - 2)
                words[i] = (
                    w[:j] + w[j + 1] + w[j] + w[j + 2 :] if r.random() < 0.5 else w[:j] + w[j + 1 :]
                )
        return " ".join(words).rstrip(".")

    def signature(self, first: str, last: str) -> list[str]:
        r = self.rng
        kind = r.random()
        if kind < 0.15:
            return [r.choice(DEVICE_LINES)]
        lines = [r.choice(SIGN_OFFS), first if r.random() < 0.5 else f"{first} {last}"]
        if kind < 0.3:
            lines = ["-- ", f"{first} {last}", self.fill("{phone}")]
        elif kind < 0.45:
            lines += [r.choice(JOB_SIGNATURES), self.fill("T: {phone}")]
        elif kind < 0.55:
            lines += ["", r.choice(DEVICE_LINES)]
        if r.random() < 0.12:
            lines += ["", r.choice(DISCLAIMERS)]
        return lines

    def quote(self, message: Message, first: str, when: datetime, *, outlook: bool) -> None:
        earlier = when - timedelta(
            days=self.rng.randint(1, 6),
            hours=self.rng.randint(0, 8),
            minutes=self.rng.randint(0, 59),
        )
        reply = self.rng.choice(AGENT_REPLIES)
        message.outlook_quote = outlook
        if outlook:
            message.quote_header = "________________________________"
            message.quote = [
                f"From: {SUPPORT}",
                f"Sent: {earlier:%d %B %Y %H:%M}",
                f"To: {first.lower()}@example.com",
                f"Subject: Your Northwave request #{self.rng.randint(40000, 99999)}",
                "",
                f"Hi {first},",
                reply,
                "Kind regards,",
                "Northwave Support",
            ]
        else:
            message.quote_header = f"On {earlier:%a, %d %b %Y at %H:%M}, {SUPPORT} wrote:"
            message.quote = [f"Hi {first},", reply, "Kind regards,", "Northwave Support"]

    def compose(
        self, core: str, *, first: str, last: str, when: datetime, style: str
    ) -> tuple[Message, str | None]:
        """The message around ``core``; also the priority its details call for."""
        r = self.rng
        forced: str | None = None
        if style == "short":
            msg = Message([core])
            if r.random() < 0.35:
                msg.signature = [r.choice(DEVICE_LINES)]
            return msg, None
        if style == "chat":
            return Message([self.typos(core)]), None
        if style == "form":
            fields = [
                f"Name: {first} {last}",
                self.fill("Account number: {account}"),
                f"Message: {core}",
            ]
            return Message(["\n".join(fields)]), None
        paragraphs = []
        if r.random() < 0.8:
            paragraphs.append(r.choice(GREETINGS))
        story = r.sample(BACKSTORY, 3 if style == "long" else int(r.random() < 0.35))
        body = [self.fill(s) for s in story[:1]] + [core]
        if r.random() < 0.18:
            body.append(r.choice(URGENT_DETAILS))
            forced = "urgent" if r.random() < 0.6 else "high"
        elif r.random() < 0.1:
            body.append(r.choice(LOW_DETAILS))
            forced = "low"
        if r.random() < 0.6:
            body.append(self.fill(r.choice(ASKS)))
        paragraphs.append(" ".join(body))
        paragraphs += [self.fill(s) for s in story[1:]]
        msg = Message(paragraphs, signature=self.signature(first, last))
        if style == "reply" or (style == "long" and r.random() < 0.5):
            self.quote(msg, first, when, outlook=r.random() < 0.4)
        return msg, forced


# -- rendering ------------------------------------------------------------------------


def render_plain(msg: Message) -> str:
    """The message as a plain-text e-mail body."""
    parts = ["\n\n".join(msg.paragraphs)]
    if msg.signature:
        parts.append("\n".join(msg.signature))
    if msg.quote_header:
        if msg.outlook_quote:
            parts.append("\n".join([msg.quote_header, *msg.quote]))
        else:
            parts.append(
                "\n".join([msg.quote_header, *(f"> {q}" if q else ">" for q in msg.quote)])
            )
    return "\n\n".join(parts)


def render_html(msg: Message) -> str:
    """The message as the HTML a mail client sends (Gmail or Outlook flavour)."""
    e = html.escape
    out = ['<div dir="ltr">']
    for para in msg.paragraphs:
        out.append("<div>" + "<br>".join(e(line) for line in para.split("\n")) + "</div>")
        out.append("<div><br></div>")
    if msg.signature:
        out.append("<div>" + "<br>".join(e(line) for line in msg.signature) + "</div>")
    out.append("</div>")
    if msg.quote_header and msg.outlook_quote:
        head, body = msg.quote[:4], msg.quote[5:]
        out.append(
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
            '<p class="MsoNormal">'
            + "<br>".join(f"<b>{e(h.split(':', 1)[0])}:</b>{e(h.split(':', 1)[1])}" for h in head)
            + "</p></div>"
        )
        out += [f'<p class="MsoNormal">{e(line)}</p>' for line in body]
    elif msg.quote_header:
        out.append(
            '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            + e(msg.quote_header)
            + '<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
            'border-left:1px solid rgb(204,204,204);padding-left:1ex">'
            + "".join(f"<div>{e(q)}</div>" for q in msg.quote)
            + "</blockquote></div>"
        )
    return "".join(out)


# -- drafting a whole export ----------------------------------------------------------

STYLES = ("email", "email", "email", "reply", "reply", "long", "short", "short", "chat", "form")


def _priority(writer: Writer, weights: Sequence[int], forced: str | None) -> str:
    if forced is not None:
        return forced
    return writer.rng.choices(PRIORITIES, weights=weights)[0]


def draft_export(
    *, seed: int, core_half: int, per_intent: int, start_id: int, styles: Sequence[str] = STYLES
) -> list[Draft]:
    """The tickets of one export, in creation order, ids from ``start_id``."""
    w = Writer(seed)
    r = w.rng
    drafts: list[Draft] = []

    def some_day() -> datetime:
        return datetime(2025, 1, 2, tzinfo=UTC) + timedelta(days=r.randint(0, 170))

    def add(
        kind: str,
        intent: str | None,
        subject: str,
        msg: Message,
        priority: str | None,
        person: tuple[str, str],
        *,
        channel: str = "email",
        tagged: bool = True,
        spam: bool = False,
    ) -> None:
        drafts.append(
            Draft(
                number=0,
                kind=kind,
                intent=intent,
                subject=subject,
                message=msg,
                priority=priority,
                channel=channel,
                created_at=some_day(),
                first=person[0],
                last=person[1],
                tagged=tagged,
                spam=spam,
            )
        )

    for intent, texts in INTENTS.items():
        cores = texts.cores[core_half::2]
        order = [*cores, *r.sample(cores, per_intent - len(cores))]
        for core in order:
            first, last = w.person()
            style = r.choice(styles)
            msg, forced = w.compose(core, first=first, last=last, when=some_day(), style=style)
            channel = {"chat": "chat", "form": "web", "short": r.choice(["web", "email"])}.get(
                style, "email"
            )
            add(
                intent,
                intent,
                r.choice(texts.subjects),
                msg,
                _priority(w, texts.priority_weights, forced),
                (first, last),
                channel=channel,
                tagged=r.random() > 0.06,
            )
    for core in r.sample(TV_SERVICE, 12):
        first, last = w.person()
        msg, _ = w.compose(core, first=first, last=last, when=some_day(), style=r.choice(styles))
        add(
            "tv",
            None,
            r.choice(TV_SUBJECTS),
            msg,
            r.choice(["normal", "high", None]),
            (first, last),
        )
    for core in COMPLIMENTS[core_half::2] + COMPLIMENTS[core_half::3]:
        first, last = w.person()
        msg, _ = w.compose(core, first=first, last=last, when=some_day(), style="email")
        add("compliment", None, "Thank you", msg, "low", (first, last))
    for intent, subject, text in FOREIGN[core_half::2] + FOREIGN[core_half::3]:
        add("foreign", intent, subject, Message([text]), "normal", w.person())
    for subject, text in SPAM:
        add("spam", None, subject, Message([text]), None, w.person(), spam=True)
    for _ in range(5):
        first, last = w.person()
        msg = Message([], signature=[r.choice(DEVICE_LINES)])
        w.quote(msg, first, some_day(), outlook=r.random() < 0.5)
        add("empty", None, "Re:", msg, None, (first, last))
    r.shuffle(drafts)
    # The same customer writing twice: the same words, once more with another signature
    # or the quoted thread under it (equal once cleaned).
    originals = r.sample([d for d in drafts if d.intent and d.kind == d.intent], 8)
    for d in originals:
        again = Message(list(d.message.paragraphs), signature=w.signature(d.first, d.last))
        if r.random() < 0.5:
            w.quote(again, d.first, some_day(), outlook=False)
        pos = drafts.index(d) + 1
        drafts.insert(
            pos,
            Draft(0, d.kind, d.intent, d.subject, again, d.priority, d.channel,
                  d.created_at, d.first, d.last, tagged=d.tagged),
        )  # fmt: skip
    when = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    for i, d in enumerate(drafts):
        when += timedelta(minutes=r.randint(20, 1000))
        d.number = start_id + i
        d.created_at = when
    return drafts


# -- Zendesk ----------------------------------------------------------------------------


def zendesk_tags(writer: Writer, d: Draft) -> list[str]:
    """Tags an agent would have left on the ticket."""
    r = writer.rng
    if d.kind == "spam":
        return ["spam"]
    if d.kind == "compliment":
        return [r.choice(["compliment", "feedback"])]
    if d.kind == "tv":
        return r.choice([[], ["tv"], ["web_form"]])
    if d.kind == "empty":
        return []
    product = []
    if r.random() < 0.3:
        product = [r.choice(["broadband", "mobile", "web_form"])]
    if d.intent is None or not d.tagged:
        return product
    texts = INTENTS[d.intent]
    tags = [texts.tags[0] if r.random() < 0.65 else r.choice(texts.tags)]
    # Broad tags next to specific ones: the mapping's rule order decides.
    if d.intent == "cancel_contract" and r.random() < 0.4:
        tags.append("billing")
    if d.intent == "invoice_wrong" and r.random() < 0.3:
        tags = ["billing"]
    if d.intent == "router_setup" and r.random() < 0.2:
        tags.append("broadband")
    if r.random() < 0.08:
        tags.append(r.choice(["vip", "escalated", "callback_requested"]))
    return sorted(set(tags + product))


ZENDESK_CHANNEL = {"email": "email", "web": "web", "chat": "chat"}
ZENDESK_TYPES = (None, None, "question", "incident", "problem")


def write_zendesk(drafts: Sequence[Draft], *, seed: int) -> None:
    """``zendesk_tickets.json`` (API list) and ``zendesk_tickets.csv`` (CSV export)."""
    w = Writer(seed)
    r = w.rng
    tickets = []
    for d in drafts:
        as_html = d.channel == "email" and r.random() < 0.2
        description = render_html(d.message) if as_html else render_plain(d.message)
        if d.channel == "chat" and r.random() < 0.3:
            description = (
                f"Conversation with {d.first}\n\n({d.created_at:%H:%M:%S}) {d.first}: hi\n"
                f"({d.created_at + timedelta(seconds=14):%H:%M:%S}) {d.first}: {description}"
            )
        created = d.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        solved = d.created_at + timedelta(hours=r.randint(1, 70))
        status = (
            "closed"
            if d.spam
            else r.choices(["solved", "closed", "open", "pending"], [5, 4, 1, 1])[0]
        )
        prio = d.priority if d.priority is None or r.random() > 0.25 else None
        tickets.append(
            {
                "url": f"https://northwave.zendesk.com/api/v2/tickets/{d.number}.json",
                "id": d.number,
                "external_id": None,
                "via": {
                    "channel": ZENDESK_CHANNEL.get(d.channel, "email"),
                    "source": {"from": {}, "to": {}, "rel": None},
                },
                "created_at": created,
                "updated_at": solved.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "type": r.choice(ZENDESK_TYPES),
                "subject": d.subject,
                "raw_subject": d.subject,
                "description": description,
                "priority": prio,
                "status": status,
                "recipient": "support@northwave.example",
                "requester_id": 360000000000 + r.randint(1000, 99999),
                "submitter_id": 360000000000 + r.randint(1000, 99999),
                "assignee_id": 360000000000 + r.randint(1, 40),
                "organization_id": None,
                "group_id": 360000001000 + r.randint(1, 6),
                "tags": zendesk_tags(w, d),
                "custom_fields": [],
                "satisfaction_rating": {"score": r.choice(["offered", "unoffered", "good", "bad"])},
                "has_incidents": False,
                "is_public": True,
            }
        )
    payload = {"tickets": tickets, "next_page": None, "previous_page": None, "count": len(tickets)}
    (HERE / "zendesk_tickets.json").write_text(
        json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    header = [
        "Id", "Requester", "Requester email", "Assignee", "Group", "Subject", "Description",
        "Tags", "Status", "Priority", "Via", "Ticket type", "Created at", "Updated at",
    ]  # fmt: skip
    with (HERE / "zendesk_tickets.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for d, t in zip(drafts, tickets, strict=True):
            out.writerow(
                [
                    t["id"],
                    f"{d.first} {d.last}",
                    d.email,
                    f"Agent {int(str(t['assignee_id'])[-2:]):02d}",
                    ["Support", "Billing", "Technical", "Sales", "Field", "Retention"][
                        int(str(t["group_id"])[-1]) - 1
                    ],
                    t["subject"],
                    t["description"],
                    " ".join(t["tags"]),  # type: ignore[arg-type]
                    str(t["status"]).capitalize(),
                    str(t["priority"] or "-").capitalize(),
                    {"email": "Mail", "web": "Web Form", "chat": "Chat"}[t["via"]["channel"]],  # type: ignore[index]
                    str(t["type"] or "-").capitalize(),
                    str(t["created_at"]).replace("T", " ").replace("Z", ""),
                    str(t["updated_at"]).replace("T", " ").replace("Z", ""),
                ]
            )


# -- Freshdesk --------------------------------------------------------------------------

FD_PRIORITY = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
FD_SOURCE = {"email": 1, "web": 2, "chat": 7}


def write_freshdesk(drafts: Sequence[Draft], *, seed: int) -> None:
    """``freshdesk_tickets.json``: a list as GET /api/v2/tickets returns it."""
    w = Writer(seed)
    r = w.rng
    tickets = []
    for d in drafts:
        ticket_type: str | None
        tags: list[str] = []
        if d.kind == "spam":
            ticket_type = None
        elif d.intent and d.kind in (d.intent, "foreign") and d.tagged:
            texts = INTENTS[d.intent]
            if r.random() < 0.65:
                ticket_type = texts.ticket_type
            else:
                ticket_type = r.choice(["Question", "Incident", "Problem"])
                tags = [r.choice(texts.tags)]
        else:
            ticket_type = r.choice(["Question", "Incident", None])
            if d.kind == "tv" and r.random() < 0.5:
                tags = ["tv"]
            if d.kind == "compliment":
                tags = ["feedback"]
        if r.random() < 0.1:
            tags.append(r.choice(["vip", "social_escalation", "callback"]))
        prio = FD_PRIORITY.get(d.priority or "normal", 2)
        created = d.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        tickets.append(
            {
                "cc_emails": [],
                "fwd_emails": [],
                "reply_cc_emails": [],
                "fr_escalated": False,
                "spam": d.spam,
                "email_config_id": 22000010101,
                "group_id": 22000020000 + r.randint(1, 5),
                "priority": prio,
                "requester_id": 22000300000 + r.randint(1, 99999),
                "responder_id": 22000400000 + r.randint(1, 30),
                "source": FD_SOURCE.get(d.channel, 1),
                "company_id": None,
                "status": 5 if d.spam else r.choices([4, 5, 2, 3], [5, 4, 1, 1])[0],
                "subject": d.subject,
                "to_emails": ["support@northwave.example"] if d.channel == "email" else None,
                "product_id": None,
                "id": d.number,
                "type": ticket_type,
                "due_by": (d.created_at + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "fr_due_by": (d.created_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "is_escalated": False,
                "description": render_html(d.message),
                "description_text": render_plain(d.message),
                "custom_fields": {"cf_account_number": None, "cf_category": None},
                "created_at": created,
                "updated_at": created,
                "tags": sorted(set(tags)),
            }
        )
    (HERE / "freshdesk_tickets.json").write_text(
        json.dumps(tickets, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


# -- generic CSV (web form and chat tool) ---------------------------------------------------


def write_generic(*, seed: int, per_intent: int) -> None:
    """``web_chat_tickets.csv``: columns Ref, Received, Channel, Title, Message, Category,
    Urgency (P1..P4), Status; mostly short chat lines."""
    w = Writer(seed)
    r = w.rng
    rows: list[list[str]] = []
    p_names = {"urgent": "P1", "high": "P2", "normal": "P3", "low": "P4"}

    def row(channel: str, title: str, message: str, category: str, prio: str | None) -> None:
        rows.append(["", "", channel, title, message, category, p_names.get(prio or "", ""), ""])

    for texts in INTENTS.values():
        lines = [*texts.chat, *texts.cores[:: max(1, 24 // (per_intent - len(texts.chat)))]]
        for line in lines[:per_intent]:
            chatty = line in texts.chat
            message = line if chatty or r.random() < 0.5 else w.typos(line)
            category = texts.category_label if r.random() > 0.07 else ""
            prio = r.choices(PRIORITIES, weights=texts.priority_weights)[0]
            row(
                "live chat" if chatty else "web form",
                "" if chatty else r.choice(texts.subjects),
                message,
                category,
                prio,
            )
    for core in TV_SERVICE[:12]:
        row("live chat", "", w.typos(core), r.choice(["", "General enquiry"]), "P3")
    for core in COMPLIMENTS[:6]:
        row("web form", "Feedback", core, "Feedback", "P4")
    for intent, subject, text in FOREIGN[:10]:
        row("web form", subject, text, INTENTS[intent].category_label, "normal")
    for subject, text in SPAM:
        row("web form", subject, text, "Spam", None)
    r.shuffle(rows)
    # Double-submitted web forms.
    for i in r.sample(range(len(rows)), 6):
        rows.insert(i + 1, list(rows[i]))
    when = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
    for i, fields in enumerate(rows):
        when += timedelta(minutes=r.randint(10, 400))
        prefix = "CH" if fields[2] == "live chat" else "WF"
        fields[0] = f"{prefix}-{10000 + i}"
        fields[1] = f"{when:%d/%m/%Y %H:%M}"
        fields[7] = r.choice(["Closed", "Closed", "Resolved", "Open"])
        if r.random() < 0.15 and fields[2] == "live chat":
            fields[2] = "whatsapp"
    with (HERE / "web_chat_tickets.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["Ref", "Received", "Channel", "Title", "Message", "Category", "Urgency", "Status"]
        )
        out.writerows(rows)


def main() -> None:
    """Write all four exports."""
    zendesk = draft_export(seed=1, core_half=0, per_intent=15, start_id=48001)
    write_zendesk(zendesk, seed=11)
    freshdesk = draft_export(seed=2, core_half=1, per_intent=15, start_id=1201)
    write_freshdesk(freshdesk, seed=12)
    write_generic(seed=3, per_intent=15)


if __name__ == "__main__":
    main()
