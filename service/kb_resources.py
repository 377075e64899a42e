"""Loading the knowledge base at startup, seeded with the demo help centre when empty."""

from __future__ import annotations

import logging

from kb_index.document_loader import load_documents
from kb_index.knowledge_base import KnowledgeBase
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
from models.errors import EncoderMismatchError
from models.protocols import Encoder
from service.kb_rebuild import rebuild_index, written_by_other_backend
from service.settings import Settings

logger = logging.getLogger(__name__)


def load_knowledge_base(settings: Settings, *, encoder: Encoder) -> KnowledgeBase:
    """Open the configured KB index; a corrupt or mismatched index raises and stops startup.

    An empty (or absent) index is seeded with the sample help centre when
    ``kb_seed_sample`` is on, so a fresh ``make run`` answers KB searches at once.
    """
    directory = settings.resolved_kb_index_dir
    try:
        kb = KnowledgeBase.open(directory, encoder=encoder)
    except EncoderMismatchError:
        # Derived data: another backend of the same weights wrote it, so re-embed it.
        if not written_by_other_backend(directory, encoder):
            raise
        kb = rebuild_index(directory, encoder=encoder)
    if kb.is_empty and settings.kb_seed_sample:
        documents = load_documents([SAMPLE_HELP_CENTRE_DIR])
        kb.upsert(documents)
        logger.info("seeded the empty KB with %s sample help-centre articles", len(documents))
    return kb
