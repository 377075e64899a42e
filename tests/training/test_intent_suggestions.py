"""Intent suggestions: clusters of uncovered messages, their names, overlap warnings."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from models.errors import InvalidInputError
from models.message_clusters import candidate_name, cluster_embeddings, distinctive_terms
from training.cli import app
from training.intent_suggestions import IntentSuggester, find_overlaps
from training.taxonomy_commands import read_messages

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MESSAGES = FIXTURES / "suggest_messages.csv"
runner = CliRunner()


def blob(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float) -> np.ndarray:
    points = centre + rng.normal(scale=spread, size=(n, len(centre)))
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_clusters_below_the_minimum_size_are_noise_and_big_ones_come_first() -> None:
    rng = np.random.default_rng(0)
    axes = np.eye(16)
    data = np.vstack(
        [
            blob(rng, axes[0], 5, 0.05),
            blob(rng, axes[1], 8, 0.05),
            blob(rng, axes[2], 2, 0.05),
            axes[3:9],  # six lone points, each far from everything
        ]
    )
    labels = cluster_embeddings(data, distance_threshold=0.3, min_cluster_size=4)
    assert set(labels[:5]) == {1} and set(labels[5:13]) == {0}
    assert set(labels[13:]) == {-1}


def test_too_few_rows_give_no_clusters() -> None:
    assert list(cluster_embeddings(np.eye(3), distance_threshold=0.5, min_cluster_size=5)) == [
        -1,
        -1,
        -1,
    ]


def test_distinctive_terms_prefer_words_of_the_group_over_common_ones() -> None:
    groups = [
        [
            "the tv box is frozen please help",
            "my tv box shows an error please",
            "tv box remote broken please",
        ],
        ["router password please", "forgot the router password", "router login please"],
    ]
    background = ["please help with my bill", "please call me", "help please"]
    terms = distinctive_terms(groups, background, top=3)
    assert terms[0][0] == "tv box"
    assert "router password" in terms[1] or terms[1][0] == "router"
    assert all("please" not in t for group in terms for t in group)
    assert candidate_name(terms[0], fallback="x").startswith("tv_box")


def test_a_term_from_one_message_only_does_not_name_a_group() -> None:
    terms = distinctive_terms(
        [["zebra crossing lights broken", "lights broken again", "broken lights outside"]],
        ["unrelated words here"],
        top=5,
    )
    assert "zebra" not in " ".join(terms[0])
    assert candidate_name((), fallback="candidate_1") == "candidate_1"


def test_overlap_is_found_for_intents_drawn_from_the_same_cloud() -> None:
    rng = np.random.default_rng(1)
    axes = np.eye(12)
    same = blob(rng, axes[0], 12, 0.2)
    other = blob(rng, axes[5], 6, 0.2)
    embeddings = np.vstack([same, other])
    labels = ["a"] * 6 + ["b"] * 6 + ["c"] * 6
    texts = [f"t{i}" for i in range(18)]
    overlaps = find_overlaps(embeddings, labels, texts)
    assert [(o.first, o.second) for o in overlaps] == [("a", "b")]
    assert overlaps[0].confusion >= 0.2 and overlaps[0].centroid_similarity > 0.85


def test_suggester_validates_its_settings_and_inputs() -> None:
    with pytest.raises(ValueError, match="min_cluster_size"):
        IntentSuggester(min_cluster_size=1)
    with pytest.raises(ValueError, match="distance_threshold"):
        IntentSuggester(distance_threshold=0.0)
    with pytest.raises(ValueError, match="differ in length"):
        IntentSuggester().suggest(["a"], np.zeros((2, 4)), uncovered=[True])


def test_read_messages_takes_csv_and_jsonl_with_optional_labels(tmp_path: Path) -> None:
    texts, labels = read_messages(MESSAGES, text_column="text", label_column=None)
    assert len(texts) == 62 and labels is not None and labels[0] == "restart_router"
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"message": "hi there"}\n\n{"message": "  "}\n', encoding="utf-8")
    texts, labels = read_messages(jsonl, text_column="message", label_column=None)
    assert texts == ["hi there"] and labels is None
    with pytest.raises(InvalidInputError, match="no column 'intent'"):
        read_messages(MESSAGES, text_column="text", label_column="intent")
    jsonl.write_text("[1]\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=":1: expected a JSON object"):
        read_messages(jsonl, text_column="message", label_column=None)


def _fixture_rows() -> list[dict[str, str]]:
    with MESSAGES.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.encoder
def test_a_planted_group_of_eight_uncovered_messages_becomes_one_candidate(
    real_encoder: Any,
) -> None:
    rows = _fixture_rows()
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    report = IntentSuggester().suggest(
        texts, real_encoder.encode(texts), uncovered=[not label for label in labels], labels=labels
    )
    planted = {i for i, r in enumerate(rows) if r["group"] == "planted"}
    assert len(planted) == 8 and report.uncovered == 38
    best = max(report.candidates, key=lambda c: len(planted & set(c.members)))
    assert len(planted & set(best.members)) >= 7
    assert len(planted & set(best.members)) / best.size >= 0.75
    assert any(word in best.name for word in ("mail", "email", "inbox", "webmail")), best.name
    assert 1 <= len(best.examples) <= 5
    assert len(set(best.examples)) == len(best.examples)
    assert all(text in texts for text in best.examples)
    for other in report.candidates:
        if other is not best:
            assert not planted & set(other.members)


@pytest.mark.encoder
def test_intents_with_paraphrased_examples_are_flagged_and_distinct_ones_are_not(
    real_encoder: Any,
) -> None:
    rows = [r for r in _fixture_rows() if r["label"]]
    texts = [r["text"] for r in rows]
    overlaps = find_overlaps(real_encoder.encode(texts), [r["label"] for r in rows], texts)
    assert [(o.first, o.second) for o in overlaps] == [("restart_router", "router_reboot")]
    assert overlaps[0].examples  # an example that went to the other intent


@pytest.mark.encoder
def test_suggest_cli_prints_candidates_and_overlaps_as_json() -> None:
    result = runner.invoke(app, ["intents", "suggest", "--data", str(MESSAGES), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rows"] == 62 and report["uncovered"] == 38
    assert report["uncovered_by"] == "no label"
    assert report["skipped_languages"] == {}
    names = [c["name"] for c in report["candidates"]]
    assert any("mail" in name for name in names), names
    assert [(o["first"], o["second"]) for o in report["overlaps"]] == [
        ("restart_router", "router_reboot")
    ]
    table = runner.invoke(app, ["intents", "suggest", "--data", str(MESSAGES)])
    assert table.exit_code == 0, table.output
    assert "Candidate intents" in table.stdout and "Overlapping intents" in table.stdout


@pytest.mark.encoder
def test_suggest_cli_uses_the_model_without_labels_and_skips_other_languages(
    tmp_path: Path,
) -> None:
    data = tmp_path / "unlabelled.jsonl"
    rows = [r for r in _fixture_rows() if r["group"] != "labelled"]
    foreign = [
        "Mein Postfach bekommt seit gestern keine E-Mails mehr.",
        "No puedo entrar en mi correo electrónico, dice que la contraseña es incorrecta.",
    ]
    lines = [json.dumps({"body": text}) + "\n" for text in [r["text"] for r in rows] + foreign]
    data.write_text("".join(lines), encoding="utf-8")
    result = runner.invoke(
        app, ["intents", "suggest", "--data", str(data), "--text-column", "body", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["uncovered_by"].startswith("out of scope for intent-bitext")
    assert report["overlaps"] == []
    assert report["skipped_languages"] == {"de": 1, "es": 1}
    assert report["rows"] == len(rows) + 2
    # The shop model covers some of these (gift vouchers, parcels), not the mailbox ones.
    assert 0 < report["uncovered"] < len(rows)


def test_suggest_cli_reports_a_missing_column_as_an_error() -> None:
    result = runner.invoke(
        app, ["intents", "suggest", "--data", str(MESSAGES), "--text-column", "body"]
    )
    assert result.exit_code == 2
    assert "no column 'body'" in result.output
