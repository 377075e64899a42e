"""The five-command walkthrough with the real encoder: `triage intents build` on the Northwave
spec, the shipped urgency model and respond policy, and the separately written Freshdesk
export sent through /v1/triage and /v1/respond of the real app."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.main import create_app
from service.resources import load_resources
from service.settings import Settings
from training.cli import app as cli_app
from training.intent_spec import load_spec

REPO = Path(__file__).resolve().parents[3]
TICKETS = REPO / "training" / "data" / "tickets"
SPEC_PATH = TICKETS / "northwave_intents.yaml"
SPEC = load_spec(SPEC_PATH)
NEGATIVES = REPO / "tests" / "fixtures" / "negatives_tiny.csv"
runner = CliRunner()

pytestmark = pytest.mark.encoder


def _cli(*args: str) -> None:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Steps 1-2: the spec model, its routing file and the Freshdesk import."""
    work = tmp_path_factory.mktemp("walkthrough")
    paths = {"model": work / "northwave-spec", "routing": work / "routing.yaml"}
    _cli(
        "intents", "build", "--spec", str(SPEC_PATH), "--negatives", str(NEGATIVES),
        "--negatives-label", "", "--version", "1.0.0", "--out", str(paths["model"]),
        "--routing-out", str(paths["routing"]),
    )  # fmt: skip
    paths["import"] = work / "fd.csv"
    _cli(
        "tickets", "import", str(TICKETS / "freshdesk_tickets.json"), "--format", "freshdesk",
        "--mapping", str(TICKETS / "mapping.yaml"), "--out", str(paths["import"]),
    )  # fmt: skip
    return paths


@pytest.fixture(scope="module")
def served(
    walkthrough: dict[str, Path], real_encoder: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """Step 3: the real app on the spec model, every other setting the shipped default."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("var"),
        intent_model_dir=walkthrough["model"],
        routing_file=walkthrough["routing"],
        supported_languages=SPEC.languages.supported,
    )
    resources = load_resources(settings, encoder=real_encoder)
    try:
        with TestClient(create_app(settings, resources=resources)) as client:
            yield client
    finally:
        resources.close()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_served_spec_model_reads_the_freshdesk_tickets(
    served: TestClient, walkthrough: dict[str, Path]
) -> None:
    rows = _rows(walkthrough["import"])
    assert len(rows) > 150
    intents = {i.name for i in SPEC.intents}
    right = 0
    for i, row in enumerate(rows):
        triage = served.post("/v1/triage", json={"text": row["text"]})
        assert triage.status_code == 200, triage.text
        body = triage.json()
        assert body["intent"]["label"] in intents | {"out_of_scope"}
        right += body["intent"]["label"] == row["label"]
        if i % 4:
            continue  # /v1/respond also drafts: every fourth ticket is enough
        respond = served.post("/v1/respond", json={"message": {"text": row["text"]}})
        assert respond.status_code == 200, respond.text
        decision = respond.json()
        # The shipped policy with this model: nothing is answered automatically.
        assert decision["action"] in {"suggest", "escalate"}, decision
        if decision["action"] == "suggest":
            assert {"intent_not_allowed", "out_of_scope"} & set(decision["reasons"])
    # Measured 0.93 for the CLI build with CLINC150 negatives (README); tiny negatives here.
    assert right / len(rows) >= 0.85, f"{right}/{len(rows)}"


def test_served_spec_model_routes_other_languages_to_the_spec_queue(served: TestClient) -> None:
    for text in (
        "Bonjour, je voudrais résilier mon abonnement internet",
        "Hola, no tengo señal en el móvil desde ayer",
    ):
        body = served.post("/v1/respond", json={"message": {"text": text}}).json()
        triage = body["triage"]
        assert triage["language"]["supported"] is False
        assert triage["intent_trusted"] is False
        assert triage["routing"]["queue"] == SPEC.languages.queue
        assert body["action"] == "suggest"
        assert "language_unsupported" in body["reasons"]
