"""The languages a served intent model is trusted on come from its manifest unless the
operator sets them: a spec written in English and German, served with default settings,
trusts German; ``TRIAGE_SUPPORTED_LANGUAGES`` still wins, with a warning naming both; a
manifest naming a language the detector cannot tell is refused at load.

The real app and the real fastText detector; the intent model is the Northwave spec built
as `triage intents build` does (hashing encoder: only the language decision is under test).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.errors import ArtifactError
from service.main import create_app
from service.resources import Resources
from tests.fixtures.spec_models import save_spec_model
from training.intent_spec import LanguagePolicy, load_spec

REPO = Path(__file__).resolve().parents[2]
SPEC = load_spec(REPO / "training" / "data" / "tickets" / "northwave_intents.yaml")
GERMAN = (
    "Guten Tag, ich möchte meinen Vertrag kündigen, weil ich umziehe. Bitte bestätigen Sie "
    "mir die Kündigung zum Monatsende."
)


@pytest.fixture(scope="module")
def bilingual_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Northwave spec declared as written in English and German."""
    spec = dataclasses.replace(
        SPEC, languages=LanguagePolicy(supported=("en", "de"), queue="multilingual")
    )
    return save_spec_model(spec, tmp_path_factory.mktemp("spec") / "northwave-en-de")


@pytest.fixture(scope="module")
def serve(
    tmp_path_factory: pytest.TempPathFactory,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> Any:
    @contextmanager
    def start(model: Path, **overrides: Any) -> Iterator[TestClient]:
        data_dir = tmp_path_factory.mktemp("var")
        with (
            build_tiny_resources(data_dir, intent_model_dir=model, **overrides) as resources,
            TestClient(create_app(resources.settings, resources=resources)) as client,
        ):
            yield client

    return start


def _language_of(client: TestClient, text: str) -> dict[str, Any]:
    response = client.post("/v1/triage", json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return {
        "code": body["language"]["code"],
        "supported": body["language"]["supported"],
        "trusted": body["intent_trusted"],
    }


def test_a_model_written_in_german_is_trusted_on_german_by_default(
    serve: Any, bilingual_model: Path
) -> None:
    with serve(bilingual_model) as client:
        assert _language_of(client, GERMAN) == {"code": "de", "supported": True, "trusted": True}


def test_the_setting_wins_over_the_manifest_and_says_so(
    serve: Any, bilingual_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="service.resources"),
        serve(bilingual_model, supported_languages=("en",)) as client,
    ):
        german = _language_of(client, GERMAN)
        assert german["supported"] is False and german["trusted"] is False
    warned = [r.getMessage() for r in caplog.records if "TRIAGE_SUPPORTED_LANGUAGES" in r.message]
    assert warned and "en,de" in warned[0], caplog.text


def test_a_model_that_names_no_languages_is_trusted_on_english_only(
    serve: Any, tiny_intent_dir: Path
) -> None:
    with serve(tiny_intent_dir) as client:
        assert _language_of(client, GERMAN)["supported"] is False
        assert _language_of(client, "Where is my order 4411829?")["supported"] is True


def test_a_manifest_naming_an_unknown_language_is_refused(
    bilingual_model: Path,
    tmp_path: Path,
    build_tiny_resources: Callable[..., AbstractContextManager[Resources]],
) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    for item in bilingual_model.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    manifest_path = broken / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["params"]["languages"]["supported"] = ["en", "xx"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with (
        pytest.raises(ArtifactError, match="xx"),
        build_tiny_resources(tmp_path / "var", intent_model_dir=broken),
    ):
        pass
