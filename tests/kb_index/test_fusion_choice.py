"""Fusion weights with provenance: fusion.json beside documents, an index's manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb_index.fusion_choice import (
    FUSION_FILE,
    FusionChoice,
    QuerySetInfo,
    choice_from_params,
    read_fusion_file,
    recorded_fusion,
    write_fusion_file,
)
from kb_index.hybrid_retriever import FusionConfig
from kb_index.sample_help_centre import DEV_QUERIES_PATH, SAMPLE_HELP_CENTRE_DIR
from models.errors import InvalidInputError

TUNED = FusionConfig(dense_weight=1.0, title_weight=0.15, title_dense_weight=0.25)


def _choice() -> FusionChoice:
    return FusionChoice(
        fusion=TUNED,
        source="tune-fusion",
        queries=QuerySetInfo(name="dev_queries.jsonl", count=3, sha256="ab" * 32),
        figures={"hybrid": {"recall@1": 0.8}, "dense": {"recall@1": 0.75}},
        baseline="dense",
        encoder="test/hashing-encoder",
    )


def test_a_choice_survives_fusion_json(tmp_path: Path) -> None:
    recorded = _choice().imported().recorded(actor="system:cli")
    # What tune-fusion chose stays marked as tuned wherever it is written.
    assert recorded.source == "tune-fusion" and recorded.at is not None
    assert FusionChoice(TUNED, source="api").imported().source == "import"
    write_fusion_file(tmp_path / FUSION_FILE, recorded)
    assert read_fusion_file(tmp_path) == recorded
    assert read_fusion_file(tmp_path / "elsewhere") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable"),
        ("[1, 2]", "JSON object"),
        ('{"source": "api"}', "malformed"),
        ('{"fusion": {"dense_weight": 2.0}}', "dense_weight"),
        ('{"fusion": {"weight": 1.0}}', "unknown setting"),
        ('{"fusion": {}, "source": "guess"}', "unknown fusion source"),
    ],
)
def test_a_bad_fusion_json_is_refused_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / FUSION_FILE).write_text(content)
    with pytest.raises(InvalidInputError, match=message) as raised:
        read_fusion_file(tmp_path)
    assert str(tmp_path / FUSION_FILE) in str(raised.value)


def test_folders_that_record_different_weights_are_refused(tmp_path: Path) -> None:
    one, two, plain = tmp_path / "one", tmp_path / "two", tmp_path / "plain"
    for folder in (one, two, plain):
        folder.mkdir()
    write_fusion_file(one / FUSION_FILE, _choice())
    assert recorded_fusion([plain, one, one / FUSION_FILE]) == _choice()
    assert recorded_fusion([plain]) is None
    write_fusion_file(two / FUSION_FILE, FusionChoice(FusionConfig(dense_weight=0.5)))
    with pytest.raises(InvalidInputError, match="different fusion weights"):
        recorded_fusion([one, two])


def test_an_index_manifest_yields_a_choice_only_when_something_was_chosen() -> None:
    assert choice_from_params({"fusion": FusionConfig().to_json()}) is None
    assert choice_from_params({}) is None
    older = choice_from_params({"fusion": TUNED.to_json()})
    assert older is not None and (older.fusion, older.source) == (TUNED, "import")
    assert choice_from_params({"fusion_choice": _choice().to_json()}) == _choice()


def test_the_sample_help_centre_ships_weights_tuned_on_its_dev_queries() -> None:
    shipped = read_fusion_file(SAMPLE_HELP_CENTRE_DIR)
    assert shipped is not None and shipped.queries is not None
    assert shipped.queries == QuerySetInfo.of_file(DEV_QUERIES_PATH, count=shipped.queries.count)
    assert shipped.queries.count == len(DEV_QUERIES_PATH.read_text().splitlines())
    hybrid = shipped.figures["hybrid"]["recall@1"]
    assert all(hybrid >= shipped.figures[m]["recall@1"] for m in ("dense", "bm25", "title"))
    assert json.loads((SAMPLE_HELP_CENTRE_DIR / FUSION_FILE).read_text())["fusion"] == (
        shipped.fusion.to_json()
    )
