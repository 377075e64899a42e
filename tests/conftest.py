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


@pytest.fixture(scope="session")
def tiny_urgency_dir(tmp_path_factory: pytest.TempPathFactory, hashing_encoder: HashingEncoder) -> Path:
    """An urgency model on the hashing encoder, trained on the urgency data set's train split."""
    from tests.fixtures.urgency_tiny import train_tiny_urgency

    return train_tiny_urgency(hashing_encoder, tmp_path_factory.mktemp("models") / "urgency-tiny")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder with the public data sets (Bitext, BANKING77, CLINC150)."""
    if not (SHARED_DATA / "bitext_customer_support.csv").is_file():
        pytest.fail(f"public data sets not found under {SHARED_DATA}")
    return SHARED_DATA
