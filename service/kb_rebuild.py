"""Opening the shared knowledge base: import files once, then follow the database.

Documents live in the database (``kb_index/shared_knowledge_base.py``). What was on disk
before (an index folder written by ``triage kb ingest`` or an older service, else the
sample help centre when ``kb_seed_sample`` is on) is imported on the first start, once
for all workers, with the fusion weights recorded beside it. Vectors are stored per
encoder family: a worker on another backend (``torch`` before a switch to ``onnx-int8``,
say) embeds the documents itself at load, and the ``kb_reindex`` job stores vectors of
the new family so later workers load them.
"""

from __future__ import annotations

import logging

from kb_index.document_loader import load_documents
from kb_index.documents import KbDocument
from kb_index.fusion_choice import FusionChoice, choice_from_params, read_fusion_file
from kb_index.kb_document_store import KbDocumentStore
from kb_index.kb_store import ARTIFACT_TYPE, folder_holds_index, read_documents
from kb_index.sample_help_centre import SAMPLE_HELP_CENTRE_DIR
from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.artifact_manifest import read_manifest
from models.errors import ArtifactError, InvalidInputError
from models.protocols import Encoder
from service.database import Database
from service.settings import Settings

logger = logging.getLogger(__name__)

#: The actor recorded for documents imported from files.
IMPORT_ACTOR = "system:import"


def files_to_import(settings: Settings) -> list[KbDocument]:
    """The documents on disk: the index folder if it holds one (a corrupt or foreign
    folder raises ``ArtifactError``), else the sample help centre if seeding is on."""
    folder = settings.resolved_kb_index_dir
    if folder_holds_index(folder):
        return read_documents(folder)
    if settings.kb_seed_sample:
        return load_documents([SAMPLE_HELP_CENTRE_DIR])
    return []


def fusion_to_import(settings: Settings) -> FusionChoice | None:
    """The fusion weights recorded with the files ``files_to_import`` reads: the index
    folder's manifest, else the sample help centre's ``fusion.json`` (tuned on its
    development queries, so seeding never tunes at start)."""
    folder = settings.resolved_kb_index_dir
    if folder_holds_index(folder):
        manifest = read_manifest(folder, expected_type=ARTIFACT_TYPE)
        try:
            return choice_from_params(manifest.params)
        except InvalidInputError as exc:
            raise ArtifactError(f"{folder}: {exc}") from exc
    if settings.kb_seed_sample:
        return read_fusion_file(SAMPLE_HELP_CENTRE_DIR)
    return None


def open_shared_knowledge_base(
    settings: Settings, *, database: Database, encoder: Encoder, follow: bool = True
) -> SharedKnowledgeBase:
    """The knowledge base on ``database``, loaded; following other workers' writes
    unless ``follow`` is off (one-shot CLI and job use)."""
    kb = SharedKnowledgeBase(encoder=encoder, store=KbDocumentStore(database.engine))
    if not kb.store.is_seeded():
        documents = files_to_import(settings)
        fusion = fusion_to_import(settings)
        if kb.import_once(documents, actor=IMPORT_ACTOR, fusion=fusion):
            logger.info("imported %s knowledge-base documents from files", len(documents))
    if follow:
        kb.follow()
    else:
        kb.sync()
    return kb
