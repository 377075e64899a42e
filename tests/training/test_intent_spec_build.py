"""A spec becomes the same servable intent artifact `triage train` writes, and the service
serves it unchanged: same /v1/triage shape, its routing, other languages not forced in."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from models.errors import InvalidInputError
from models.intent_classifier import IntentClassifier
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.spec_models import save_spec_model
from training.cli import app as cli_app
from training.few_shot_intents import (
    SpecBuildOptions,
    build_intent_model,
    read_extra_examples,
    read_feedback_examples,
    spec_training_rows,
    unseen_intent_threshold,
    without_other_languages,
)
from training.intent_spec import load_spec

REPO = Path(__file__).resolve().parents[2]
TICKETS = REPO / "training" / "data" / "tickets"
NORTHWAVE_SPEC = TICKETS / "northwave_intents.yaml"
NEGATIVES = REPO / "tests" / "fixtures" / "negatives_tiny.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def spec_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Northwave spec built on the hashing encoder, saved as `triage intents build` does."""
    return save_spec_model(
        load_spec(NORTHWAVE_SPEC), tmp_path_factory.mktemp("spec") / "northwave-spec"
    )


def test_descriptions_become_one_more_example_each() -> None:
    spec = load_spec(NORTHWAVE_SPEC)
    rows = spec_training_rows(spec)
    plain = spec_training_rows(spec, use_descriptions=False)
    assert len(rows) == len(plain) + len(spec.intents)
    assert spec.intents[0].description in rows.texts
    assert rows.sha256 != plain.sha256


def test_artifact_has_the_train_type_and_records_auto_reply(spec_artifact: Path) -> None:
    manifest = json.loads((spec_artifact / "manifest.json").read_text())
    trained_type = json.loads(
        (REPO / "models" / "artifacts" / "intent-bitext" / "manifest.json").read_text()
    )["type"]
    assert manifest["type"] == trained_type
    assert manifest["name"] == "northwave-intents"
    params = manifest["params"]
    assert params["auto_reply"]["cancel_contract"] is False
    assert params["auto_reply"]["no_signal"] is True
    assert params["languages"] == {"supported": ["en"], "queue": "multilingual"}
    assert params["categories"]["internet_down"] == "NETWORK"
    assert "k-fold" in manifest["metrics"]["calibration_source"] or "fold" in str(
        manifest["metrics"]["calibration_source"]
    )
    assert set(manifest["labels"]) >= {"cancel_contract", "router_setup"}


def test_artifact_loads_and_predicts_spec_intents(spec_artifact: Path) -> None:
    classifier = IntentClassifier.from_artifact(spec_artifact, encoder=HashingEncoder())
    [pred] = classifier.predict(["How do I change my wifi password?"])
    assert pred.label == "router_setup"
    assert pred.category == "EQUIPMENT"


def test_extra_examples_with_unknown_intents_are_refused(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    with extra.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerow(["my tv box is broken", "tv_box"])
        writer.writerow(["router lights all off", "router_setup"])
    with pytest.raises(InvalidInputError, match="'tv_box'"):
        read_extra_examples(extra, load_spec(NORTHWAVE_SPEC))


@pytest.fixture(scope="module")
def spec_client(
    spec_artifact: Path, tiny_urgency_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The real app (production wiring) serving the spec-built model."""
    from service.main import create_app
    from service.resources import load_resources
    from service.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("var"),
        intent_model_dir=spec_artifact,
        urgency_model_dir=tiny_urgency_dir,
        routing_file=spec_artifact.parent / "routing.yaml",
        respond_policy_path=TICKETS / "northwave_policy.yaml",
        drafts_min_relevance=0.3,
    )
    resources = load_resources(settings, encoder=HashingEncoder())
    try:
        with TestClient(create_app(settings, resources=resources)) as client:
            yield client
    finally:
        resources.close()


def test_service_triages_with_the_spec_model(spec_client: TestClient) -> None:
    response = spec_client.post(
        "/v1/triage", json={"text": "How do I change my wifi password?", "channel": "chat"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["intent"]) >= {
        "label",
        "confidence",
        "category",
        "alternatives",
        "out_of_scope",
        "ambiguous",
    }
    assert body["intent"]["label"] == "router_setup"
    assert body["routing"]["queue"] == "equipment"
    assert body["model_version"] == "northwave-intents@1.0.0"
    ready = spec_client.get("/readyz").json()
    assert "northwave-intents@1.0.0" in json.dumps(ready)


def test_other_languages_go_to_the_spec_queue_not_an_intent(spec_client: TestClient) -> None:
    text = (
        "Bonjour, depuis hier soir notre connexion internet ne fonctionne plus du tout et la "
        "box clignote en rouge. Pouvez-vous envoyer un technicien rapidement ?"
    )
    body = spec_client.post("/v1/triage", json={"text": text}).json()
    assert body["language"]["supported"] is False
    assert body["intent_trusted"] is False
    assert body["routing"]["queue"] == "multilingual"


@pytest.mark.encoder
def test_cli_builds_a_servable_artifact_and_routing(tmp_path: Path) -> None:
    out = tmp_path / "model"
    routing = tmp_path / "routing.yaml"
    own = tmp_path / "own.jsonl"
    own.write_text(
        "\n".join(
            json.dumps({"text": t})
            for t in ["do you sell gift cards", "is the shop open on sunday", "job vacancies?"]
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        cli_app,
        [
            "intents",
            "build",
            "--spec",
            str(NORTHWAVE_SPEC),
            "--negatives",
            str(NEGATIVES),
            "--negatives-label",
            "",
            "--out",
            str(out),
            "--routing-out",
            str(routing),
            "--own-negatives",
            str(own),
            "--version",
            "2.0.0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "auto_reply: false recorded for cancel_contract" in result.output
    assert "'multilingual'" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "2.0.0"
    assert manifest["training_data"]["negatives"].endswith(":*")
    assert manifest["training_data"]["own_negatives"] == [str(own)]
    assert "calibration negatives" in result.output
    from models.routing_policy import RoutingPolicy

    # The examples were written apart from the sample helpdesk exports: the model must read
    # those tickets (measured 0.93 with CLINC150 negatives; here the tiny negatives file).
    imported = tmp_path / "freshdesk.csv"
    result = runner.invoke(
        cli_app,
        [
            "tickets",
            "import",
            str(TICKETS / "freshdesk_tickets.json"),
            "--format",
            "freshdesk",
            "--mapping",
            str(TICKETS / "mapping.yaml"),
            "--out",
            str(imported),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli_app, ["evaluate", "--model", str(out), "--data", str(imported), "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["n"] > 150
    assert figures["accuracy"] >= 0.85, figures
    policy = RoutingPolicy.from_file(routing)
    assert policy.route(category="NETWORK", urgency="normal").queue == "network"
    assert policy.route(category=None, urgency="low", language_supported=False).queue == (
        "multilingual"
    )


def test_cli_names_the_bad_intent_and_exits_2(tmp_path: Path) -> None:
    raw = yaml.safe_load(NORTHWAVE_SPEC.read_text())
    raw["intents"][4]["examples"] = raw["intents"][4]["examples"][:2]
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = runner.invoke(
        cli_app, ["intents", "build", "--spec", str(spec), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "intents[4] (payment_method).examples" in result.output
    assert not (tmp_path / "m").exists()


def _clusters(centres: int, per: int, spread: float, seed: int = 0) -> tuple[Any, list[str]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    centre = rng.normal(size=(centres, 32))
    rows = np.vstack([c + spread * rng.normal(size=(per, 32)) for c in centre])
    labels = [f"intent_{i}" for i in range(centres) for _ in range(per)]
    return rows, labels


def test_unseen_intent_threshold_rejects_held_out_intents_within_budget() -> None:
    rows, labels = _clusters(centres=10, per=5, spread=0.15)
    calib = unseen_intent_threshold(rows, labels, budget=0.05)
    assert calib.in_scope_rejected <= 0.05
    assert calib.unseen_recall > 0.9  # other intents are far: held-out ones are rejected
    assert calib.groups == 5


def test_unseen_intent_threshold_rejects_nothing_without_budget() -> None:
    rows, labels = _clusters(centres=6, per=4, spread=1.5)  # intents overlap heavily
    calib = unseen_intent_threshold(rows, labels, budget=0.0)
    assert calib.in_scope_rejected == 0.0
    tight = unseen_intent_threshold(rows, labels, budget=0.5)
    assert tight.threshold >= calib.threshold
    assert tight.in_scope_rejected <= 0.5


def test_build_records_the_unseen_intent_calibration(spec_artifact: Path) -> None:
    manifest = json.loads((spec_artifact / "manifest.json").read_text())
    unseen = manifest["metrics"]["unseen_intent_calibration"]
    assert unseen["intent_groups"] == 5
    assert 0.0 <= unseen["in_scope_rejected_loo"] <= unseen["in_scope_budget"] + 1e-9
    assert manifest["params"]["similarity_threshold"] >= unseen["similarity_threshold_before"]


def test_feedback_corrections_become_examples_latest_wins(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    records = [
        {"text": "my tv box is stuck on a logo", "correct_intent": "router_setup",
         "recorded_at": "2026-11-01T10:00:00+00:00"},
        {"text": "My TV box is stuck on a logo", "correct_intent": "technician_visit",
         "recorded_at": "2026-11-02T10:00:00+00:00"},
        {"text": "I want a TV package", "correct_intent": "tv_packages",
         "recorded_at": "2026-11-03T10:00:00+00:00"},
        {"text": "thanks", "recorded_at": "2026-11-03T11:00:00+00:00"},
    ]  # fmt: skip
    feedback.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    spec = load_spec(NORTHWAVE_SPEC)
    extra, skipped = read_feedback_examples(feedback, spec)
    assert skipped == 1
    assert extra.labels == ("technician_visit",)
    options = SpecBuildOptions(unseen_intents=False)
    message = ["My TV box is stuck on a logo"]
    before = build_intent_model(spec, encoder=HashingEncoder(), options=options)
    assert before.classifier.predict(message)[0].label != "technician_visit"
    after = build_intent_model(spec, encoder=HashingEncoder(), extra=extra, options=options)
    assert after.classifier.predict(message)[0].label == "technician_visit"


def _with_german_example(keep_four: bool) -> Any:
    from training.intent_spec import parse_spec

    raw = yaml.safe_load(NORTHWAVE_SPEC.read_text())
    examples = raw["intents"][0]["examples"]
    raw["intents"][0]["examples"] = (examples[:3] if keep_four else examples[:2]) + [
        "Ich möchte meinen Vertrag zum Monatsende kündigen, was kostet das?"
    ]
    return parse_spec(raw, source="de.yaml")


def test_examples_in_other_languages_are_left_out_and_named() -> None:
    from models.language_detector import LanguageDetector

    spec, notes = without_other_languages(
        _with_german_example(keep_four=True), LanguageDetector(supported=("en",))
    )
    assert len(spec.intents[0].examples) == 3
    assert all("Vertrag" not in e for e in spec.intents[0].examples)
    assert len(notes) == 1
    assert "intents[0] (cancel_contract).examples[3]: reads as 'de'" in notes[0]
    assert sum(len(i.examples) for i in spec.intents[1:]) == 55  # English ones all kept


def test_an_intent_left_with_too_few_english_examples_is_refused() -> None:
    from models.language_detector import LanguageDetector

    with pytest.raises(InvalidInputError, match=r"intents\[0\] \(cancel_contract\)\.examples"):
        without_other_languages(
            _with_german_example(keep_four=False), LanguageDetector(supported=("en",))
        )
