"""Reading JSON Lines files (one JSON object per line): the one reader every JSONL input uses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from models.errors import InvalidInputError


@dataclass(frozen=True)
class JsonlLine:
    """One non-blank line: its object, or why it is not one."""

    number: int
    value: dict[str, Any] | None
    error: str | None = None


def parse_jsonl(lines: Iterable[str]) -> Iterator[JsonlLine]:
    """Every non-blank line, numbered from 1; a line that is not a JSON object carries
    the reason instead (for readers that report all bad lines at once)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield JsonlLine(number, None, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            yield JsonlLine(number, None, "expected a JSON object")
            continue
        yield JsonlLine(number, value)


def jsonl_objects(lines: Iterable[str], *, source: object) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each non-blank line.

    Raises:
        InvalidInputError: at the first line that is not a JSON object, naming
            ``source:line``.
    """
    for line in parse_jsonl(lines):
        if line.value is None:
            raise InvalidInputError(f"{source}:{line.number}: {line.error}")
        yield line.number, line.value
