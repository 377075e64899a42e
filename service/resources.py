"""Everything the lifespan loads once: encoder, models, indexes, connectors."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kb_index.knowledge_base import KnowledgeBase
from models.intent_classifier import IntentClassifier
from models.protocols import Encoder
from models.sentence_encoder import SentenceTransformerEncoder
from models.triage_pipeline import Triager
from service.kb_resources import load_knowledge_base
from service.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """Loaded, verified state shared by all requests. Built once per process."""

    settings: Settings
    encoder: Encoder
    intent: IntentClassifier
    triager: Triager
    versions: dict[str, str] = field(default_factory=dict)
    kb: KnowledgeBase | None = None

    def close(self) -> None:
        """Release connections and files held by the resources."""


def build_encoder(settings: Settings) -> SentenceTransformerEncoder:
    """The configured encoder, weights loaded."""
    return SentenceTransformerEncoder(settings.encoder_path, name=settings.encoder_name).load()


def load_resources(settings: Settings, *, encoder: Encoder | None = None) -> Resources:
    """Load and verify every artifact; any failure propagates and stops startup."""
    enc = encoder if encoder is not None else build_encoder(settings)
    intent = IntentClassifier.from_artifact(settings.intent_model_dir, encoder=enc)
    triager = Triager(intent=intent)
    versions = {"encoder": enc.model_id, "intent_model": intent.version}
    kb = load_knowledge_base(settings, encoder=enc)
    versions["kb_index"] = kb.version
    logger.info("resources loaded: %s", versions)
    return Resources(
        settings=settings,
        encoder=enc,
        intent=intent,
        triager=triager,
        versions=versions,
        kb=kb,
    )
