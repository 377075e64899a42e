"""A team's own taxonomy served end to end: the Northwave spec built as `triage intents build`
does, the real app started on it with the shipped respond policy, and Northwave messages
through /v1/triage, /v1/respond and /v1/suggest.

The shipped policy auto-replies to shop order intents the spec model does not have: the
service must start anyway with auto-replies off, honour the manifest's ``auto_reply: false``
whatever a policy lists, and send other languages to the spec's queue in every path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from models.intent_classifier import IntentPrediction
from models.triager import TriageResult
from service.main import create_app
from service.resources import load_resources
from service.respond.respond_input import RespondInput
from service.respond.respond_policy import DEFAULT_POLICY_PATH, PolicyError
from service.respond.response_pipeline import draft_request
from service.settings import Settings
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.spec_models import save_spec_model
from training.intent_spec import load_spec

REPO = Path(__file__).resolve().parents[3]
TICKETS = REPO / "training" / "data" / "tickets"
SPEC = load_spec(TICKETS / "northwave_intents.yaml")
SPEC_INTENTS = {i.name for i in SPEC.intents}
NEGATIVES = REPO / "tests" / "fixtures" / "negatives_tiny.csv"
JANE = {"email": "jane@example.com", "name": "Jane Doe"}  # one open demo order

# Spec examples, so that the hashing encoder (which only sees words) is sure of them.
NORTHWAVE = {
    "Our internet has been down since this morning": "internet_down",
    "My phone shows no signal at home since yesterday": "no_signal",
    "I want to cancel my broadband contract": "cancel_contract",
    "How do I change my wifi password?": "router_setup",
}
FRENCH = (
    "Bonjour, depuis hier soir notre connexion internet ne fonctionne plus du tout et la "
    "box clignote en rouge. Pouvez-vous envoyer un technicien rapidement ?"
)
GERMAN = (
    "Guten Tag, ich möchte meinen Vertrag kündigen, weil ich umziehe. Bitte bestätigen Sie "
    "mir die Kündigung zum Monatsende."
)


@pytest.fixture(scope="module")
def spec_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The Northwave spec model and its `--routing-out` file, as `triage intents build`
    writes them (hashing encoder; the real one is exercised by the CLI test)."""
    out = save_spec_model(SPEC, tmp_path_factory.mktemp("spec") / "northwave-spec")
    return out, out.parent / "routing.yaml"


@pytest.fixture(scope="module")
def serve(
    spec_model: tuple[Path, Path], tiny_urgency_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """Start the real app (production wiring) on the spec model; overrides change settings."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[TestClient]:
        model, routing = spec_model
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("var"),
            intent_model_dir=model,
            urgency_model_dir=tiny_urgency_dir,
            routing_file=routing,
            supported_languages=SPEC.languages.supported,
            orders_seed_sample=True,
            drafts_min_relevance=0.3,
            **overrides,
        )
        resources = load_resources(settings, encoder=HashingEncoder())
        try:
            with TestClient(create_app(settings, resources=resources)) as client:
                yield client
        finally:
            resources.close()

    return start


@pytest.fixture(scope="module")
def default_client(serve: Any) -> Iterator[TestClient]:
    """The spec model served with the shipped respond policy (no override)."""
    with serve() as client:
        yield client


def _post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_shipped_policy_starts_with_auto_replies_off_in_one_line(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.respond.respond_policy")
    with serve() as client:
        assert client.get("/readyz").status_code == 200
    lines = [r.getMessage() for r in caplog.records if "respond policy" in r.getMessage()]
    assert len(lines) == 1, lines
    assert str(DEFAULT_POLICY_PATH) in lines[0]
    assert "northwave-intents@1.0.0" in lines[0]
    assert "auto-reply on for no intent" in lines[0]
    assert "off for delivery_period, track_order (not labels of the model)" in lines[0]


def test_triage_answers_with_the_spec_intents(default_client: TestClient) -> None:
    for text, intent in NORTHWAVE.items():
        body = _post(default_client, "/v1/triage", {"text": text})
        assert body["intent"]["label"] == intent, (text, body["intent"])
        assert body["model_version"] == "northwave-intents@1.0.0"
        assert body["language"]["supported"] is True
        assert body["routing"]["queue"] != "multilingual"


def test_respond_suggests_for_spec_intents_and_never_500s(default_client: TestClient) -> None:
    for text, intent in NORTHWAVE.items():
        body = _post(default_client, "/v1/respond", {"message": {"text": text}, "customer": JANE})
        assert body["triage"]["intent"]["label"] == intent
        assert body["reply"] is None
        # As the shipped policy says: critical escalates, the rest goes to an agent with
        # drafts, since no intent of this model is answered automatically.
        if body["triage"]["urgency"]["level"] == "critical":
            assert body["action"] == "escalate", body
            assert body["reasons"][0] == "urgency_critical"
        else:
            assert body["action"] == "suggest", body
            assert "intent_not_allowed" in body["reasons"]
            assert "drafts" in body or "suggestions" in body


def test_respond_escalates_a_request_for_a_person(default_client: TestClient) -> None:
    body = _post(
        default_client,
        "/v1/respond",
        {"message": {"text": "The internet is down again, I want to speak to a human"}},
    )
    assert body["action"] == "escalate"
    assert body["reasons"][0] == "human_requested"


@pytest.mark.parametrize("text", [FRENCH, GERMAN])
def test_other_languages_go_to_the_spec_queue_in_every_path(
    default_client: TestClient, text: str
) -> None:
    queue = SPEC.languages.queue
    triage = _post(default_client, "/v1/triage", {"text": text})
    respond = _post(default_client, "/v1/respond", {"message": {"text": text}, "customer": JANE})
    suggest = _post(default_client, "/v1/suggest", {"message": {"text": text}, "customer": JANE})
    for seen in (triage, respond["triage"], suggest["triage"]):
        assert seen["language"]["supported"] is False
        assert seen["intent_trusted"] is False
        # The `--routing-out` file puts critical first (a person sees it at once, in any
        # language); everything else in another language goes to the spec's queue.
        critical = seen["urgency"]["level"] == "critical"
        assert seen["routing"]["queue"] == ("escalations" if critical else queue), seen
    assert respond["reply"] is None
    if respond["triage"]["urgency"]["level"] == "critical":
        assert respond["action"] == "escalate"
    else:
        assert respond["action"] == "suggest"
        assert "language_unsupported" in respond["reasons"]


def test_a_non_critical_foreign_message_reaches_the_language_queue(
    default_client: TestClient,
) -> None:
    body = _post(default_client, "/v1/respond", {"message": {"text": FRENCH}, "customer": JANE})
    assert body["triage"]["urgency"]["level"] != "critical"
    assert body["triage"]["routing"]["queue"] == SPEC.languages.queue
    assert body["action"] == "suggest"
    assert "language_unsupported" in body["reasons"]


def _policy(tmp_path: Path, intents: list[str]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "auto_reply": {"intents": intents, "min_confidence": 0.0},
                "escalate": {"human_request_intents": []},
            }
        ),
        encoding="utf-8",
    )
    return path


def test_manifest_auto_reply_false_wins_over_the_policy(
    serve: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The spec marks cancel_contract `auto_reply: false`; router_setup may be answered.
    assert SPEC.auto_reply["cancel_contract"] is False and SPEC.auto_reply["router_setup"]
    caplog.set_level(logging.INFO, logger="service.respond.respond_policy")
    policy = _policy(tmp_path, ["cancel_contract", "router_setup"])
    with serve(respond_policy_path=policy) as client:
        opted_in = _post(
            client,
            "/v1/respond",
            {"message": {"text": "How do I change my wifi password?"}, "customer": JANE},
        )
        vetoed = _post(
            client,
            "/v1/respond",
            {"message": {"text": "I want to cancel my broadband contract"}, "customer": JANE},
        )
    assert opted_in["triage"]["intent"]["label"] == "router_setup"
    assert opted_in["action"] == "auto_reply", opted_in
    assert vetoed["triage"]["intent"]["label"] == "cancel_contract"
    assert vetoed["action"] == "suggest"
    assert "intent_not_allowed" in vetoed["reasons"]
    assert "off for cancel_contract (auto_reply: false in the model's manifest)" in caplog.text


def test_own_policy_naming_no_intent_of_the_model_is_refused(serve: Any, tmp_path: Path) -> None:
    policy = _policy(tmp_path, ["cancel_contrat"])
    refused = pytest.raises(PolicyError, match=r"none of the auto_reply intents \(cancel_contrat\)")
    with refused, serve(respond_policy_path=policy):
        pass


@pytest.mark.parametrize(("trusted", "steers"), [(True, True), (False, False)])
def test_drafts_are_steered_by_a_trusted_intent_only(trusted: bool, steers: bool) -> None:
    prediction = IntentPrediction(
        label="cancel_contract",
        confidence=0.9,
        category="CONTRACT",
        alternatives=(),
        out_of_scope=False,
        ambiguous=False,
    )
    triage = TriageResult(intent=prediction, model_version="nw@1", intent_trusted=trusted)
    request = draft_request(RespondInput(text=GERMAN), triage)
    assert (request.intent == "cancel_contract") is steers
    assert (request.intent_confidence == 0.9) is steers
