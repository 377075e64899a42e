"""Read orders from CSV or JSONL files, with errors that name the line and the column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.errors import InvalidInputError
from models.jsonl_lines import parse_jsonl
from service.orders.order import Order
from service.orders.order_fields import (
    ORDER_COLUMNS,
    REQUIRED_COLUMNS,
    OrderFieldError,
    order_from_fields,
)

ImportFormat = Literal["csv", "jsonl"]
_FORMAT_BY_SUFFIX: dict[str, ImportFormat] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class RowError:
    """One unreadable row: where it is and what is wrong."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ParsedOrders:
    """The readable orders of a file and the errors of the others."""

    orders: list[Order]
    errors: list[RowError]
    rows: int


class OrderFileError(InvalidInputError):
    """The file as a whole cannot be read (format, header)."""

    code = "invalid_order_file"


def detect_format(path: Path) -> ImportFormat:
    """``csv`` or ``jsonl`` from the file name."""
    fmt = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise OrderFileError(
            f"{path}: cannot tell the format from the extension; use .csv or .jsonl "
            "(or pass --format)"
        )
    return fmt


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        if not header:
            raise OrderFileError(f"{path}: empty file, expected a header row")
        unknown = [h for h in header if h not in ORDER_COLUMNS]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing column(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown column(s) {', '.join(unknown)}")
            raise OrderFileError(
                f"{path}: header {'; '.join(parts)}; expected {', '.join(ORDER_COLUMNS)}"
            )
        reader.fieldnames = header
        for record in reader:
            if None in record:
                yield reader.line_num, {"__extra__": record[None]}
                continue
            yield reader.line_num, dict(record)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as fh:
        for line in parse_jsonl(fh):
            yield line.number, line.value if line.value is not None else {"__error__": line.error}


def read_order_file(path: Path, *, fmt: ImportFormat | None = None) -> ParsedOrders:
    """Parse every row; rows that fail are reported, not raised, so all errors show at once."""
    if not path.is_file():
        raise OrderFileError(f"{path} is not a file")
    fmt = fmt or detect_format(path)
    rows = _csv_rows(path) if fmt == "csv" else _jsonl_rows(path)
    orders: list[Order] = []
    errors: list[RowError] = []
    count = 0
    try:
        for line, values in rows:
            count += 1
            if "__error__" in values:
                errors.append(RowError(line, None, str(values["__error__"])))
                continue
            if "__extra__" in values:
                errors.append(RowError(line, None, "more cells than header columns"))
                continue
            unknown = sorted(k for k in values if k not in ORDER_COLUMNS)
            if unknown:
                errors.append(
                    RowError(
                        line,
                        unknown[0],
                        f"unknown field; expected one of {', '.join(ORDER_COLUMNS)}",
                    )
                )
                continue
            try:
                orders.append(order_from_fields(values))
            except OrderFieldError as exc:
                errors.append(RowError(line, exc.field, exc.message))
    except UnicodeDecodeError as exc:
        raise OrderFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise OrderFileError(f"{path}: broken CSV ({exc})") from exc
    return ParsedOrders(orders=orders, errors=errors, rows=count)
