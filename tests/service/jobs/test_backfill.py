"""Bulk backfill: input reading, output records, chunk plans, and the CLI killed mid-run and
resumed (output identical to an uninterrupted run)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models.errors import InvalidInputError
from service.jobs.backfill import (
    OUTPUT_KEYS,
    BackfillColumns,
    BackfillPlan,
    read_tickets,
    run_chunk,
    triage_tickets,
)
from service.resources import Resources
from tests.conftest import REPO_ROOT

MESSAGES = [
    "Where is my order 4411829? It should have arrived by now.",
    "I want to cancel my order",
    "",
    "Please send me the invoice for order 5521",
    "My account was hacked, someone changed my password!",
]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_one_record_per_row_in_input_order(tiny_resources: Resources, tmp_path: Path) -> None:
    source = _csv(
        tmp_path / "t.csv",
        [{"ticket": f"T{i}", "body": m, "subj": "Order"} for i, m in enumerate(MESSAGES)],
    )
    tickets = read_tickets(source, BackfillColumns(text="body", subject="subj", id="ticket"))
    records = triage_tickets(tiny_resources.triager, tickets)
    assert [r["id"] for r in records] == [f"T{i}" for i in range(len(MESSAGES))]
    for record in records:
        assert list(record)[: len(OUTPUT_KEYS)] == list(OUTPUT_KEYS)
    assert records[2]["error"] == "empty text" and records[2]["intent"] is None
    assert any(e["type"] == "order_id" and e["value"] == "4411829" for e in records[0]["entities"])
    assert records[0]["routing"]["queue"]


def test_ids_default_to_row_numbers_and_jsonl_is_read(tmp_path: Path) -> None:
    source = tmp_path / "t.jsonl"
    source.write_text("".join(json.dumps({"text": m}) + "\n" for m in MESSAGES[:2]))
    assert [t["id"] for t in read_tickets(source, BackfillColumns())] == [1, 2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.csv", "body\nhello\n", "no column 'text'"),
        ("t.jsonl", '{"body": "x"}\n', "no column 'text'"),
        ("t.jsonl", "not json\n", "JSON"),
        ("t.txt", "hello\n", ".csv or .jsonl"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    source = tmp_path / name
    source.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        BackfillPlan.prepare(source, tmp_path / "out.jsonl", columns=BackfillColumns())


def test_a_plan_is_reused_for_the_same_input_and_redone_for_another(
    tiny_resources: Resources, tmp_path: Path
) -> None:
    source = _csv(tmp_path / "t.csv", [{"text": m or "-"} for m in MESSAGES])
    out = tmp_path / "out.jsonl"
    plan = BackfillPlan.prepare(source, out, columns=BackfillColumns(), chunk_size=2)
    assert plan.chunks == 3 and plan.pending() == [0, 1, 2]
    run_chunk(plan.input_path(1), plan.output_path(1), triager=tiny_resources.triager)
    again = BackfillPlan.prepare(source, out, columns=BackfillColumns(), chunk_size=2)
    assert again.pending() == [0, 2]
    _csv(source, [{"text": m or "-"} for m in reversed(MESSAGES)])
    assert BackfillPlan.prepare(source, out, columns=BackfillColumns(), chunk_size=2).pending() == [
        0,
        1,
        2,
    ]


def _backfill(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TRIAGE_DATA_DIR": str(cwd / "var")}
    return subprocess.Popen(
        [sys.executable, "-m", "training.cli", "backfill", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.encoder
@pytest.mark.data
def test_killed_backfill_resumes_to_the_same_output(shared_data: Path, tmp_path: Path) -> None:
    with (shared_data / "bitext_customer_support.csv").open(encoding="utf-8", newline="") as f:
        rows = [
            {"n": str(i), "instruction": r["instruction"]}
            for i, r in zip(range(600), csv.DictReader(f), strict=False)
        ]
    source = _csv(tmp_path / "tickets.csv", rows)
    args = [str(source), "--text-column", "instruction", "--id-column", "n", "--chunk-size", "20"]
    interrupted = tmp_path / "interrupted.jsonl"
    parts = tmp_path / ".interrupted.jsonl.parts"

    process = _backfill([*args, "--out", str(interrupted)], tmp_path)
    end = time.monotonic() + 300
    while not (parts / "part-00000.jsonl").exists():
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        assert time.monotonic() < end
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    done_before = len(list(parts.glob("part-*.jsonl")))
    assert not interrupted.exists() and 1 <= done_before < 30

    resumed = _backfill([*args, "--out", str(interrupted)], tmp_path)
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err.decode()[-2000:]
    clean = tmp_path / "clean.jsonl"
    uninterrupted = _backfill([*args, "--out", str(clean)], tmp_path)
    _, err = uninterrupted.communicate(timeout=600)
    assert uninterrupted.returncode == 0, err.decode()[-2000:]

    assert interrupted.read_bytes() == clean.read_bytes()
    records = [json.loads(line) for line in clean.read_text().splitlines()]
    assert [r["id"] for r in records] == [str(i) for i in range(600)]
    assert not parts.exists()


def test_cli_refuses_a_missing_column(tmp_path: Path) -> None:
    source = _csv(tmp_path / "t.csv", [{"body": "hello"}])
    process = _backfill([str(source), "--out", str(tmp_path / "o.jsonl")], tmp_path)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2 and "no column 'text'" in err.decode()
