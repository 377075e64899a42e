"""Read helpdesk exports (Zendesk, Freshdesk, any CSV) into one ticket shape.

Each helpdesk spells the same facts differently: Zendesk priorities are names
(``low``..``urgent``) and its channel sits in ``via.channel``; Freshdesk sends numbers for
priority, status and source, an HTML ``description`` next to a plain ``description_text``
and a ``spam`` flag. The readers here only translate those spellings into
:class:`HelpdeskTicket`; cleaning, mapping and dropping happen in the importer, so every
format goes through exactly the same rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from models.errors import InvalidInputError
from models.jsonl_lines import jsonl_objects

ExportFormat = Literal["zendesk", "freshdesk", "csv"]

#: Fields of a ticket a generic CSV can provide (``--column FIELD=HEADER``).
TICKET_FIELDS: Final = (
    "id",
    "subject",
    "text",
    "tags",
    "type",
    "priority",
    "status",
    "channel",
    "created_at",
)

# Freshdesk API codes (developers.freshdesk.com/api: tickets).
FRESHDESK_PRIORITIES: Final = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
FRESHDESK_STATUSES: Final = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
FRESHDESK_SOURCES: Final = {
    1: "email",
    2: "portal",
    3: "phone",
    4: "forum",
    5: "twitter",
    6: "facebook",
    7: "chat",
    8: "mobihelp",
    9: "feedback_widget",
    10: "outbound_email",
}

# Helpdesk channel names → the service's channels (``TriageRequest.channel``).
_CHANNELS: Final = {
    "email": "email",
    "mail": "email",
    "outbound_email": "email",
    "web": "web",
    "web_form": "web",
    "portal": "web",
    "feedback_widget": "web",
    "api": "web",
    "mobile": "web",
    "mobihelp": "web",
    "chat": "chat",
    "live_chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "sms": "chat",
    "whatsapp": "chat",
    "voice": "phone",
    "phone": "phone",
    "twitter": "social",
    "facebook": "social",
    "instagram": "social",
    "forum": "social",
}


@dataclass(frozen=True)
class HelpdeskTicket:
    """One exported ticket, in the helpdesk's own terms but one spelling.

    ``priority`` and ``status`` are lower-case names (Freshdesk codes translated);
    ``channel`` is one of the service's channels when known, else the raw name.
    """

    id: str
    subject: str
    body: str
    tags: tuple[str, ...] = ()
    type: str = ""
    priority: str = ""
    status: str = ""
    channel: str = ""
    created_at: str = ""
    spam: bool = False


def normalise_channel(raw: object) -> str:
    """The service's channel for a helpdesk channel name (unknown names pass through)."""
    name = re.sub(r"[\s-]+", "_", _text(raw).lower())
    return _CHANNELS.get(name, name)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return str(value).strip()


def _code_name(value: object, names: Mapping[int, str]) -> str:
    """A Freshdesk code (number or digit string) as its name; names pass through."""
    raw = _text(value)
    if raw.isdigit():
        return names.get(int(raw), raw)
    return raw.lower()


def _split_tags(raw: object, pattern: str) -> tuple[str, ...]:
    if isinstance(raw, list | tuple):
        return tuple(t for t in (_text(v) for v in raw) if t)
    return tuple(t for t in (p.strip() for p in re.split(pattern, _text(raw))) if t)


# -- JSON ---------------------------------------------------------------------------


def _json_records(path: Path, *, list_key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Ticket objects of a JSON export: a list, ``{list_key: [...]}`` or JSON lines.

    Yields ``(where, record)`` with ``where`` naming the line or index for error messages.
    """
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc})") from exc
    stripped = raw.lstrip()
    if not stripped:
        raise InvalidInputError(f"{path}: the file is empty")
    try:
        document: Any = json.loads(raw)
    except json.JSONDecodeError:
        document = None
    if document is None:
        # JSON lines (Zendesk's full export writes one ticket per line).
        for n, item in jsonl_objects(raw.splitlines(), source=path):
            ticket = item.get("ticket")
            yield f"{path}:{n}", ticket if isinstance(ticket, dict) else item
        return
    if isinstance(document, dict):
        if isinstance(document.get(list_key), list):
            document = document[list_key]
        elif isinstance(document.get("ticket"), dict):
            document = [document["ticket"]]
        else:
            raise InvalidInputError(
                f"{path}: expected a list of tickets or an object with a {list_key!r} list"
            )
    if not isinstance(document, list):
        raise InvalidInputError(f"{path}: expected a list of tickets")
    for i, item in enumerate(document):
        if not isinstance(item, dict):
            raise InvalidInputError(f"{path}: ticket #{i} is not a JSON object")
        yield f"{path}: ticket #{i}", item


def _required_id(record: Mapping[str, Any], where: str) -> str:
    ticket_id = _text(record.get("id"))
    if not ticket_id:
        raise InvalidInputError(f"{where}: the ticket has no id")
    return ticket_id


def _zendesk_json(path: Path) -> Iterator[HelpdeskTicket]:
    for where, t in _json_records(path, list_key="tickets"):
        via = t.get("via")
        channel = via.get("channel") if isinstance(via, dict) else via
        yield HelpdeskTicket(
            id=_required_id(t, where),
            subject=_text(t.get("subject") or t.get("raw_subject")),
            body=_text(t.get("description")),
            tags=_split_tags(t.get("tags"), r"\s+"),
            type=_text(t.get("type")),
            priority=_text(t.get("priority")).lower(),
            status=_text(t.get("status")).lower(),
            channel=normalise_channel(channel),
            created_at=_text(t.get("created_at")),
        )


def _freshdesk_category(record: Mapping[str, Any]) -> str:
    """Freshdesk has no built-in category; teams add a ``category`` custom field."""
    custom = record.get("custom_fields")
    if isinstance(custom, dict):
        for key in ("cf_category", "category"):
            if _text(custom.get(key)):
                return _text(custom.get(key))
    return _text(record.get("category"))


def _freshdesk_json(path: Path) -> Iterator[HelpdeskTicket]:
    for where, t in _json_records(path, list_key="tickets"):
        # The HTML description keeps <blockquote> around quoted replies, which the
        # plain-text copy loses; the cleaner reads both.
        body = _text(t.get("description")) or _text(t.get("description_text"))
        yield HelpdeskTicket(
            id=_required_id(t, where),
            subject=_text(t.get("subject")),
            body=body,
            tags=_split_tags(t.get("tags"), r"\s*,\s*"),
            type=_text(t.get("type")) or _freshdesk_category(t),
            priority=_code_name(t.get("priority"), FRESHDESK_PRIORITIES),
            status=_code_name(t.get("status"), FRESHDESK_STATUSES),
            channel=normalise_channel(_code_name(t.get("source"), FRESHDESK_SOURCES)),
            created_at=_text(t.get("created_at")),
            spam=bool(t.get("spam")),
        )


# -- CSV ----------------------------------------------------------------------------

# Header names of each helpdesk's CSV export, per ticket field, first found wins.
ZENDESK_CSV_COLUMNS: Final = {
    "id": ("Id", "Ticket ID", "ID"),
    "subject": ("Subject",),
    "text": ("Description", "Ticket description", "Comment"),
    "tags": ("Tags",),
    "type": ("Ticket type", "Type"),
    "priority": ("Priority",),
    "status": ("Status",),
    "channel": ("Via", "Channel", "Ticket channel"),
    "created_at": ("Created at", "Ticket created - Timestamp", "Created"),
}
FRESHDESK_CSV_COLUMNS: Final = {
    "id": ("Ticket ID", "Ticket Id", "ID"),
    "subject": ("Subject",),
    "text": ("Description", "Description text"),
    "tags": ("Tags",),
    "type": ("Type", "Category"),
    "priority": ("Priority",),
    "status": ("Status",),
    "channel": ("Source",),
    "created_at": ("Created time", "Created Time", "Created at"),
}


def _read_csv_frame(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="error"
        )
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise InvalidInputError(f"{path}: the file is empty") from exc
    except pd.errors.ParserError as exc:
        raise InvalidInputError(f"{path}: malformed CSV ({exc})") from exc


def _resolve_columns(
    path: Path, header: list[str], wanted: Mapping[str, tuple[str, ...]]
) -> dict[str, str]:
    """Ticket field → header of this file (case-insensitive); id and subject or text required."""
    by_lower = {h.strip().lower(): h for h in header}
    found: dict[str, str] = {}
    for field, names in wanted.items():
        for name in names:
            if name.strip().lower() in by_lower:
                found[field] = by_lower[name.strip().lower()]
                break
    if "id" not in found or not ({"subject", "text"} & set(found)):
        need = ", ".join(
            f"{field} ({' / '.join(wanted[field])})"
            for field in ("id", "subject", "text")
            if field in wanted
        )
        raise InvalidInputError(
            f"{path}: needs columns for {need}; the file has: {', '.join(header)}"
        )
    return found


def _csv_tickets(
    path: Path,
    wanted: Mapping[str, tuple[str, ...]],
    *,
    tag_pattern: str,
    priority: Callable[[str], str],
    channel: Callable[[str], str],
    status: Callable[[str], str],
) -> Iterator[HelpdeskTicket]:
    frame = _read_csv_frame(path)
    columns = _resolve_columns(path, [str(c) for c in frame.columns], wanted)
    for n, row in enumerate(frame.to_dict(orient="records"), start=2):

        def get(field: str, row: dict[str, Any] = row) -> str:
            value = _text(row.get(columns[field])) if field in columns else ""
            # Zendesk's CSV export writes "-" for an empty field.
            return "" if value == "-" else value

        ticket_id = get("id")
        if not ticket_id:
            raise InvalidInputError(f"{path}:{n}: the ticket has no id")
        yield HelpdeskTicket(
            id=ticket_id,
            subject=get("subject"),
            body=get("text"),
            tags=_split_tags(get("tags"), tag_pattern),
            type=get("type"),
            priority=priority(get("priority")),
            status=status(get("status")),
            channel=channel(get("channel")),
            created_at=get("created_at"),
        )


def parse_column_options(options: list[str]) -> dict[str, tuple[str, ...]]:
    """``["text=Message", "type=Category"]`` → the column table of a generic CSV.

    Fields not named keep their own name as the header (``text``, ``subject``, ...).
    """
    columns: dict[str, tuple[str, ...]] = {field: (field,) for field in TICKET_FIELDS}
    for option in options:
        field, sep, header = option.partition("=")
        field = field.strip().lower()
        if not sep or not header.strip():
            raise InvalidInputError(f"--column {option!r}: use FIELD=HEADER, e.g. text=Message")
        if field not in TICKET_FIELDS:
            raise InvalidInputError(
                f"--column {option!r}: unknown field {field!r} (fields: {', '.join(TICKET_FIELDS)})"
            )
        columns[field] = (header.strip(),)
    return columns


def _looks_like_json(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


def read_tickets(
    path: Path, *, export_format: ExportFormat, columns: list[str] | None = None
) -> list[HelpdeskTicket]:
    """All tickets of an export file; JSON or CSV is told from the content.

    Args:
        path: the export file.
        export_format: ``zendesk`` (API/full JSON export or CSV export), ``freshdesk``
            (API JSON or CSV export) or ``csv`` (any CSV; see ``columns``).
        columns: for ``csv``: ``FIELD=HEADER`` pairs naming the columns to read.

    Raises:
        InvalidInputError: unreadable file, wrong shape, or missing columns.
    """
    if not path.is_file():
        raise InvalidInputError(f"export file {path} does not exist")
    is_json = _looks_like_json(path)
    if export_format == "csv":
        if is_json:
            raise InvalidInputError(f"{path}: --format csv reads CSV files; this is JSON")
        return list(
            _csv_tickets(
                path,
                parse_column_options(columns or []),
                tag_pattern=r"\s*[,;|]\s*",
                priority=str.lower,
                channel=normalise_channel,
                status=str.lower,
            )
        )
    if columns:
        raise InvalidInputError("--column applies to --format csv only")
    if export_format == "zendesk":
        if is_json:
            return list(_zendesk_json(path))
        return list(
            _csv_tickets(
                path,
                ZENDESK_CSV_COLUMNS,
                tag_pattern=r"\s+",
                priority=str.lower,
                channel=normalise_channel,
                status=str.lower,
            )
        )
    if export_format == "freshdesk":
        if is_json:
            return list(_freshdesk_json(path))
        return list(
            _csv_tickets(
                path,
                FRESHDESK_CSV_COLUMNS,
                tag_pattern=r"\s*,\s*",
                priority=lambda v: _code_name(v, FRESHDESK_PRIORITIES),
                channel=lambda v: normalise_channel(_code_name(v, FRESHDESK_SOURCES)),
                status=lambda v: _code_name(v, FRESHDESK_STATUSES),
            )
        )
    raise InvalidInputError(f"unknown export format {export_format!r}")
