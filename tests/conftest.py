"""Shared fixtures: a fast hashing encoder, the real encoder (marked), data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures.hashing_encoder import HashingEncoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TRIAGE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def hashing_encoder() -> HashingEncoder:
    """Fast deterministic encoder for tests that do not judge embedding quality."""
    return HashingEncoder()


@pytest.fixture(scope="session")
def real_encoder():  # type: ignore[no-untyped-def]
    """The shipped all-MiniLM-L6-v2 encoder, loaded once per test session."""
    from models.sentence_encoder import SentenceTransformerEncoder

    return SentenceTransformerEncoder().load()


FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def tiny_intent_dir(
    tmp_path_factory: pytest.TempPathFactory, hashing_encoder: HashingEncoder
) -> Path:
    """A small intent classifier trained on tests/fixtures/intents_tiny.csv (hashing encoder)."""
    from training.datasets import read_labelled_csv
    from training.intent_training import TrainingConfig, train_intent_classifier

    data = read_labelled_csv(
        FIXTURES / "intents_tiny.csv",
        text_column="text",
        label_column="label",
        category_column="category",
    )
    negatives = read_labelled_csv(
        FIXTURES / "negatives_tiny.csv", text_column="text", label_column="label"
    )
    result = train_intent_classifier(
        data,
        encoder=hashing_encoder,
        negatives=list(negatives.texts),
        config=TrainingConfig(folds=3, gibberish_negatives=20, lexical_buckets=2**12),
        categories=data.categories,
        name="intent-tiny",
        version="1",
    )
    folder = tmp_path_factory.mktemp("models") / "intent-tiny"
    result.classifier.save(folder, training_data={"sha256": data.sha256}, metrics=result.metrics)
    return folder


@pytest.fixture(scope="session")
def tiny_urgency_dir(
    tmp_path_factory: pytest.TempPathFactory, hashing_encoder: HashingEncoder
) -> Path:
    """An urgency model on the hashing encoder, trained on the urgency data set's train split."""
    from tests.fixtures.urgency_tiny import train_tiny_urgency

    return train_tiny_urgency(hashing_encoder, tmp_path_factory.mktemp("models") / "urgency-tiny")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder with the public data sets (Bitext, BANKING77, CLINC150)."""
    if not (SHARED_DATA / "bitext_customer_support.csv").is_file():
        pytest.fail(f"public data sets not found under {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Service settings with embedded defaults and a throw-away data directory.

    ``/readyz`` waits up to 5 s for the database here, not the default 1 s: once in a full
    CI run a probe missed the 1 s while nothing was wrong with the database. The cause was
    not pinned down; unlike ``triage serve`` (``service/heap_freeze.py``) this one test
    process never freezes its heap, which holds the real models and every test's leftovers,
    so a full collection can hold the GIL for long. The timeout itself is tested with its
    own setting (``tests/service/test_database_faults.py``).
    """
    from service.settings import Settings

    return Settings(data_dir=tmp_path_factory.mktemp("service-data"), readiness_timeout_s=5.0)


@pytest.fixture(scope="session")
def app_resources(app_settings, real_encoder):  # type: ignore[no-untyped-def]
    """The shipped default models and sample KB, loaded once (real encoder)."""
    from service.resources import load_resources

    resources = load_resources(app_settings, encoder=real_encoder)
    yield resources
    resources.close()


@pytest.fixture
def client(app_settings, app_resources):  # type: ignore[no-untyped-def]
    """A TestClient over an app built by ``create_app`` with the shared resources."""
    from fastapi.testclient import TestClient

    from service.main import create_app

    with TestClient(create_app(app_settings, resources=app_resources)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def help_centre():  # type: ignore[no-untyped-def]
    """The demo store's help centre, indexed with the hashing encoder."""
    from kb_index.document_loader import load_documents
    from kb_index.knowledge_base import KnowledgeBase
    from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR

    kb = KnowledgeBase(encoder=HashingEncoder(128))
    kb.upsert(load_documents([SAMPLE_HELP_CENTRE_DIR]))
    return kb
