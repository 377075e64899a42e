"""JSON lines: one JSON object per line, blank lines allowed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from models.errors import InvalidInputError


def json_objects(raw: str, *, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``raw``.

    Raises:
        InvalidInputError: a line is not JSON or not an object (``source:line`` named).
    """
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{source}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise InvalidInputError(f"{source}:{number}: each line must be a JSON object")
        yield number, item
