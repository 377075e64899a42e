"""The intents spec: what a valid file gives, and errors that name the intent and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from models.errors import InvalidInputError
from training.intent_spec import load_spec, parse_spec

REPO = Path(__file__).resolve().parents[2]
NORTHWAVE_SPEC = REPO / "training" / "data" / "tickets" / "northwave_intents.yaml"


def _spec(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "version": 1,
        "name": "shop-intents",
        "intents": [
            {
                "name": "track_parcel",
                "description": "Where a parcel is.",
                "category": "delivery",
                "examples": ["where is my parcel", "has my order shipped", "tracking number?"],
            },
            {
                "name": "refund",
                "description": "Money back for an order.",
                "auto_reply": False,
                "examples": ["I want my money back", "refund my order", "when is my refund"],
            },
        ],
    }
    raw.update(changes)
    return raw


def _write(tmp_path: Path, raw: Any) -> Path:
    path = tmp_path / "intents.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_valid_spec_gives_intents_categories_and_auto_reply(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, _spec()))
    assert [i.name for i in spec.intents] == ["track_parcel", "refund"]
    assert spec.categories == {"track_parcel": "DELIVERY"}
    assert spec.auto_reply == {"track_parcel": True, "refund": False}
    assert spec.languages.supported == ("en",)
    assert spec.languages.queue == "multilingual"
    assert len(spec.sha256) == 64


def test_shipped_northwave_spec_is_valid() -> None:
    spec = load_spec(NORTHWAVE_SPEC)
    assert len(spec.intents) == 12
    assert spec.auto_reply["cancel_contract"] is False
    assert all(len(i.examples) >= 3 for i in spec.intents)


def test_too_few_examples_names_the_intent_and_field() -> None:
    raw = _spec()
    raw["intents"][1]["examples"] = ["refund please", "money back"]
    with pytest.raises(InvalidInputError) as err:
        parse_spec(raw, source="s.yaml")
    assert "intents[1] (refund).examples" in str(err.value)
    assert "at least 3" in str(err.value)


def test_misspelt_field_is_named() -> None:
    raw = _spec()
    raw["intents"][0]["exampels"] = raw["intents"][0].pop("examples")
    with pytest.raises(InvalidInputError) as err:
        parse_spec(raw, source="s.yaml")
    message = str(err.value)
    assert "intents[0] (track_parcel).exampels" in message
    assert "intents[0] (track_parcel).examples: Field required" in message


def test_missing_description_and_bad_name_are_named() -> None:
    raw = _spec()
    del raw["intents"][0]["description"]
    raw["intents"][1]["name"] = "Refund Request"
    with pytest.raises(InvalidInputError) as err:
        parse_spec(raw, source="s.yaml")
    message = str(err.value)
    assert "intents[0] (track_parcel).description: Field required" in message
    assert "intents[1] (Refund Request).name" in message


def test_blank_example_is_named() -> None:
    raw = _spec()
    raw["intents"][0]["examples"][2] = "   "
    with pytest.raises(InvalidInputError, match=r"intents\[0\] \(track_parcel\)\.examples\[2\]"):
        parse_spec(raw, source="s.yaml")


def test_duplicate_intent_names_are_refused() -> None:
    raw = _spec()
    raw["intents"][1]["name"] = "track_parcel"
    with pytest.raises(InvalidInputError, match=r"intents\[1\] \(track_parcel\)\.name: duplicate"):
        parse_spec(raw, source="s.yaml")


def test_out_of_scope_is_a_reserved_name() -> None:
    raw = _spec()
    raw["intents"][1]["name"] = "out_of_scope"
    with pytest.raises(InvalidInputError, match="reserved"):
        parse_spec(raw, source="s.yaml")


def test_one_example_in_two_intents_names_both() -> None:
    raw = _spec()
    raw["intents"][1]["examples"][0] = "Where is my parcel?"  # same as track_parcel's, case aside
    with pytest.raises(InvalidInputError) as err:
        parse_spec(raw, source="s.yaml")
    assert "intents[1] (refund).examples[0]" in str(err.value)
    assert "'track_parcel'" in str(err.value)


def test_repeated_example_within_an_intent_is_refused() -> None:
    raw = _spec()
    raw["intents"][1]["examples"].append("refund my order!")
    with pytest.raises(InvalidInputError, match=r"\(refund\)\.examples\[3\]: repeats"):
        parse_spec(raw, source="s.yaml")


def test_unknown_language_is_refused() -> None:
    raw = _spec(languages={"supported": ["en", "xx"], "queue": "multilingual"})
    with pytest.raises(InvalidInputError, match=r"languages\.supported"):
        parse_spec(raw, source="s.yaml")


def test_a_single_intent_is_not_a_taxonomy() -> None:
    raw = _spec()
    raw["intents"] = raw["intents"][:1]
    with pytest.raises(InvalidInputError, match="intents: List should have at least 2"):
        parse_spec(raw, source="s.yaml")


def test_wrong_version_is_named() -> None:
    with pytest.raises(InvalidInputError, match="version"):
        parse_spec(_spec(version=2), source="s.yaml")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("intents: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("", "must be a YAML mapping"),
    ],
)
def test_unreadable_spec_files_say_why(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=expected):
        load_spec(path)


def test_non_utf8_spec_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        load_spec(path)
