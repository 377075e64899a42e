"""`triage orders import`: CSV and JSONL, upsert by order_id, errors naming line and column."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.database import Database
from service.orders.order import OrderItem, OrderStatus
from service.orders.order_import import OrderFileError, read_order_file
from service.orders.sql_order_connector import SqlOrderConnector
from training.cli import app

HEADER = (
    "order_id,customer_id,customer_email,status,carrier,tracking_number,tracking_url,"
    "placed_at,shipped_at,estimated_delivery,delivered_at,items"
)
GOOD_ROWS = [
    "4411829,C-1001,jane@example.com,In transit,ParcelPoint,PP77,https://track.example/PP77,"
    '2026-11-19T09:12:00Z,2026-11-20 16:40,2026-11-26,,"2 x Stoneware mug; Ceramic teapot"',
    "4411901,,omar@example.com,processing,,,,2026-11-21,,,,"
    '"[{""name"": ""Scarf"", ""quantity"": 1, ""sku"": ""SC-1""}]"',
]
GOOD_CSV = "\n".join([HEADER, *GOOD_ROWS]) + "\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_become_orders(tmp_path: Path) -> None:
    parsed = read_order_file(_write(tmp_path, "orders.csv", GOOD_CSV))
    assert parsed.errors == []
    jane, omar = parsed.orders
    assert jane.status is OrderStatus.IN_TRANSIT
    assert jane.placed_at == datetime(2026, 11, 19, 9, 12, tzinfo=UTC)
    assert jane.shipped_at == datetime(2026, 11, 20, 16, 40, tzinfo=UTC)
    assert jane.estimated_delivery == date(2026, 11, 26)
    assert jane.delivered_at is None
    assert jane.items == (OrderItem("Stoneware mug", 2), OrderItem("Ceramic teapot", 1))
    assert omar.customer_id is None and omar.carrier is None
    assert omar.items == (OrderItem("Scarf", 1, sku="SC-1"),)


def test_jsonl_lines_become_orders(tmp_path: Path) -> None:
    lines = [
        {
            "order_id": 4410033,
            "customer_id": "C-1004",
            "status": "out_for_delivery",
            "placed_at": "2026-11-18T08:00:00+01:00",
            "items": [{"name": "Candle set", "qty": 2}, "Notebook"],
        },
        {
            "order_id": "A-7",
            "customer_email": "x@example.org",
            "status": "RETURNED",
            "placed_at": 1763800000,
        },
    ]
    path = _write(tmp_path, "orders.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    parsed = read_order_file(path)
    assert parsed.errors == []
    first, second = parsed.orders
    assert first.id == "4410033"
    assert first.placed_at == datetime(2026, 11, 18, 7, 0, tzinfo=UTC)
    assert first.items == (OrderItem("Candle set", 2), OrderItem("Notebook", 1))
    assert second.status is OrderStatus.RETURNED


@pytest.mark.parametrize(
    ("row", "line", "column", "message"),
    [
        (",C-1,a@example.com,shipped,,,,2026-11-19,,,,", 2, "order_id", "is required"),
        ("1,C-1,a@example.com,lost,,,,2026-11-19,,,,", 2, "status", "'lost' is not one of"),
        ("1,C-1,a@example.com,shipped,,,,19/11/2026,,,,", 2, "placed_at", "ISO-8601"),
        ("1,C-1,not-an-email,shipped,,,,2026-11-19,,,,", 2, "customer_email", "not an e-mail"),
        ("1,,,shipped,,,,2026-11-19,,,,", 2, "customer_id", "customer_id or customer_email"),
        ("1,C-1,,shipped,,,ftp://x/1,2026-11-19,,,,", 2, "tracking_url", "http(s) URL"),
        ("1,C-1,,shipped,,,,2026-11-19,2026-11-01,,,", 2, "shipped_at", "before placed_at"),
        ("1,C-1,,shipped,,,,2026-11-19,,2026-13-01,,", 2, "estimated_delivery", "not a date"),
        ('1,C-1,,shipped,,,,2026-11-19,,,,"[{""qty"": 1}]"', 2, "items[0]", "name"),
        ("1,C-1,,shipped,,,,2026-11-19,,,,[oops", 2, "items", "not valid JSON"),
    ],
)
def test_bad_csv_row_names_line_and_column(
    tmp_path: Path, row: str, line: int, column: str, message: str
) -> None:
    parsed = read_order_file(_write(tmp_path, "bad.csv", f"{HEADER}\n{row}\n"))
    assert parsed.orders == []
    [error] = parsed.errors
    assert (error.line, error.column) == (line, column)
    assert message in error.message
    assert str(error).startswith(f"line {line}, column {column}: ")


def test_every_bad_row_is_reported_with_its_own_line(tmp_path: Path) -> None:
    rows = [
        "1,C-1,,shipped,,,,2026-11-19,,,,",
        "2,C-1,,nope,,,,2026-11-19,,,,",
        "3,C-1,,shipped,,,,2026-11-19,,,,",
        "4,C-1,,shipped,,,,,,,,",
    ]
    parsed = read_order_file(_write(tmp_path, "mixed.csv", HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [o.id for o in parsed.orders] == ["1", "3"]
    assert [(e.line, e.column) for e in parsed.errors] == [(3, "status"), (5, "placed_at")]


def test_bad_jsonl_lines_are_reported(tmp_path: Path) -> None:
    text = "\n".join(
        [
            '{"order_id": "1", "customer_id": "C", "status": "shipped", "placed_at": "2026-11-19"}',
            "{not json",
            "[1, 2]",
            '{"order_id": "2", "customer_id": "C", "status": "shipped", '
            '"placed_at": "2026-11-19", "colour": "red"}',
            '{"order_id": "3", "customer_id": "C", "status": "shipped", "placed_at": true}',
        ]
    )
    parsed = read_order_file(_write(tmp_path, "orders.jsonl", text))
    assert [o.id for o in parsed.orders] == ["1"]
    assert [(e.line, e.column) for e in parsed.errors] == [
        (2, None),
        (3, None),
        (4, "colour"),
        (5, "placed_at"),
    ]


def test_csv_header_must_name_known_columns(tmp_path: Path) -> None:
    with pytest.raises(
        OrderFileError, match=r"missing column\(s\) status.*unknown column\(s\) staus"
    ):
        read_order_file(
            _write(tmp_path, "h.csv", "order_id,staus,placed_at\n1,shipped,2026-11-19\n")
        )


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OrderFileError, match=r"\.csv or \.jsonl"):
        read_order_file(_write(tmp_path, "orders.txt", GOOD_CSV))


def test_cli_import_upserts_and_reports_counts(tmp_path: Path, sqlite_database: Database) -> None:
    url = sqlite_database.display_url
    runner = CliRunner()
    first = runner.invoke(
        app, ["orders", "import", str(_write(tmp_path, "o.csv", GOOD_CSV)), "--database-url", url]
    )
    assert first.exit_code == 0, first.output
    assert "2 new, 0 updated" in first.output
    changed = GOOD_CSV.replace("In transit", "delivered")
    second = runner.invoke(
        app, ["orders", "import", str(_write(tmp_path, "o2.csv", changed)), "--database-url", url]
    )
    assert second.exit_code == 0, second.output
    assert "0 new, 2 updated" in second.output
    stored = SqlOrderConnector(sqlite_database).get_order("4411829")
    assert stored is not None and stored.status is OrderStatus.DELIVERED


def test_cli_import_with_bad_rows_imports_nothing_unless_asked(
    tmp_path: Path, sqlite_database: Database
) -> None:
    url = sqlite_database.display_url
    bad = GOOD_CSV + "9,C-9,,teleported,,,,2026-11-19,,,,\n"
    path = _write(tmp_path, "bad.csv", bad)
    runner = CliRunner()
    refused = runner.invoke(app, ["orders", "import", str(path), "--database-url", url])
    assert refused.exit_code == 1
    assert "line 4, column status: 'teleported' is not one of" in refused.output
    assert "nothing imported" in refused.output
    assert SqlOrderConnector(sqlite_database).count() == 0
    partial = runner.invoke(
        app, ["orders", "import", str(path), "--skip-invalid", "--database-url", url]
    )
    assert partial.exit_code == 0, partial.output
    assert "1 invalid rows skipped" in partial.output
    assert SqlOrderConnector(sqlite_database).count() == 2


def test_cli_seed_loads_the_demo_orders(sqlite_database: Database) -> None:
    url = sqlite_database.display_url
    result = CliRunner().invoke(
        app, ["orders", "seed", "--count", "10", "--today", "2026-11-22", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "jane@example.com" in result.output
    order = SqlOrderConnector(sqlite_database).get_order("4411829")
    assert order is not None and order.estimated_delivery == date(2026, 11, 26)
