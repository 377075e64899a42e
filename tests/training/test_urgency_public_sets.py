"""Public data for the emergency detector: the fixed Bitext split and CLINC150 emergencies."""

from __future__ import annotations

from pathlib import Path

from training.urgency_public_sets import (
    CLINC_EMERGENCY_INTENTS,
    bitext_side,
    read_bitext,
    read_clinc,
)
from training.urgency_training import read_examples


def test_bitext_split_is_fixed_and_holds_out_about_a_fifth(shared_data: Path) -> None:
    rows = read_bitext(shared_data / "bitext_customer_support.csv")
    held = read_bitext(shared_data / "bitext_customer_support.csv", side="held_out")
    train = read_bitext(shared_data / "bitext_customer_support.csv", side="train")
    assert len(held) + len(train) == len(rows) > 4000
    assert 0.15 < len(held) / len(rows) < 0.25
    assert {m.text for m in held}.isdisjoint({m.text for m in train})
    assert all(bitext_side(m.text) == "held_out" for m in held)
    assert all(m.situation is None for m in rows)


def test_clinc_marks_only_the_declared_emergency_intents(shared_data: Path) -> None:
    rows = read_clinc(shared_data / "clinc150_val.csv")
    assert len(rows) == 3000  # in scope only
    marked = {m.label for m in rows if m.situation is not None}
    assert marked == set(CLINC_EMERGENCY_INTENTS) == {"report_fraud"}
    assert "report_lost_card" in {m.label for m in rows if m.situation is None}


def test_separately_written_test_file_needs_only_text_and_level(tmp_path: Path) -> None:
    path = tmp_path / "test_independent.jsonl"
    path.write_text(
        '{"text": "my charger melted", "level": "critical", "situation": "unsafe_product"}\n'
        '{"text": "thanks!", "level": "low"}\n',
        encoding="utf-8",
    )
    rows = read_examples(path, default_split="test")
    assert [(r.level, r.split, r.situation) for r in rows] == [
        ("critical", "test", "unsafe_product"),
        ("low", "test", None),
    ]
    assert len({r.id for r in rows}) == 2
