"""Everything the lifespan loads once: encoder, models, indexes, database, pipelines."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.encoder_factory import build_encoder as build_backend
from models.intent_classifier import IntentClassifier
from models.language_detector import LanguageDetector
from models.message_analyzer import MessageAnalyzer
from models.micro_batching_encoder import MicroBatchingEncoder
from models.protocols import Encoder
from models.routing_policy import RoutingPolicy
from models.thread_budget import ThreadBudget, apply_thread_budget
from models.triager import Triager
from models.urgency_classifier import UrgencyClassifier
from service.database import Database
from service.drafting.suggestion_service import SuggestionService, build_suggestion_service
from service.feedback.feedback_store import FeedbackStore
from service.jobs.job_environment import LoadedJobEnvironment
from service.jobs.job_runner import JobRunner
from service.jobs.job_runner_factory import build_job_runner
from service.jobs.job_store import JobStore
from service.kb_rebuild import open_shared_knowledge_base
from service.messages.message_log import MessageLog
from service.messages.recording_triager import RecordingTriager
from service.orders.order_connector import OrderConnector
from service.orders.order_connector_factory import build_order_connector
from service.orders.sample_orders import seed_if_empty
from service.orders.sql_order_connector import SqlOrderConnector
from service.respond.respond_policy import load_policy
from service.respond.response_pipeline import ResponsePipeline, build_response_pipeline
from service.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """Loaded, verified state shared by all requests. Built once per process; every
    field is required, so a route never meets a half-loaded service."""

    settings: Settings
    encoder: Encoder
    intent: IntentClassifier
    triager: Triager
    versions: dict[str, str]
    database: Database
    orders: OrderConnector
    kb: SharedKnowledgeBase
    drafter: SuggestionService
    feedback: FeedbackStore
    responder: ResponsePipeline
    message_log: MessageLog
    #: ``/v1/triage`` and ``/v1/triage/batch``: the triager, logging every message.
    triage_pipeline: RecordingTriager
    jobs: JobRunner

    @property
    def current_versions(self) -> dict[str, str]:
        """``versions`` as loaded, with the knowledge base's version now (it changes with
        every document write)."""
        return {**self.versions, "kb_index": self.kb.version}

    def close(self) -> None:
        """Release connections and files held by the resources."""
        self.message_log.close()
        self.jobs.close()
        self.kb.close()
        self.drafter.close()
        self.orders.close()
        self.database.close()
        if isinstance(self.encoder, MicroBatchingEncoder):
            self.encoder.close()


def thread_budget(settings: Settings) -> ThreadBudget:
    """Thread counts per pool from the settings (README "Performance")."""
    return ThreadBudget.for_machine(
        compute=settings.compute_threads, blas=settings.blas_threads, faiss=settings.faiss_threads
    )


def build_encoder(settings: Settings) -> Encoder:
    """The configured encoder backend, weights loaded (no batching: CLI and training)."""
    return build_backend(
        settings.encoder_backend,
        source=settings.encoder_path,
        name=settings.encoder_name,
        export_dir=settings.encoder_export_dir,
        threads=thread_budget(settings).compute,
    )


def build_serving_encoder(settings: Settings) -> MicroBatchingEncoder:
    """The configured encoder behind the micro-batching worker every request shares."""
    return MicroBatchingEncoder(
        build_encoder(settings),
        max_batch=settings.encoder_batch_size,
        max_wait_ms=settings.encoder_batch_wait_ms,
    )


def build_triager(
    settings: Settings, *, intent: IntentClassifier, encoder: Encoder
) -> tuple[Triager, dict[str, str]]:
    """The triager with urgency, language and routing; any bad artifact raises."""
    urgency = UrgencyClassifier.from_artifact(settings.urgency_model_dir, encoder=encoder)
    routing = RoutingPolicy.from_file(settings.routing_file)
    categories = {c for c in intent.categories.values() if c}
    unknown = routing.unknown_categories(categories) if categories else []
    if unknown:
        # Not fatal: a smaller intent model may simply not produce every category.
        logger.warning(
            "routing file %s names categories the intent model never produces: %s",
            settings.routing_file,
            unknown,
        )
    language = LanguageDetector(supported=settings.supported_languages).load()
    analyzer = MessageAnalyzer()
    triager = Triager(
        intent=intent, urgency=urgency, language=language, routing=routing, analyzer=analyzer
    )
    versions = {
        "urgency_model": urgency.version,
        "sentiment": analyzer.sentiment.version,
        "language_detector": language.version,
        "routing": str(settings.routing_file),
    }
    return triager, versions


def load_resources(settings: Settings, *, encoder: Encoder | None = None) -> Resources:
    """Load and verify every artifact; any failure propagates and stops startup."""
    enc = encoder if encoder is not None else build_serving_encoder(settings)
    intent = IntentClassifier.from_artifact(settings.intent_model_dir, encoder=enc)
    triager, signal_versions = build_triager(settings, intent=intent, encoder=enc)
    versions = {"encoder": enc.model_id, "intent_model": intent.version, **signal_versions}
    database = Database(settings.resolved_database_url)
    orders: OrderConnector | None = None
    drafter: SuggestionService | None = None
    message_log: MessageLog | None = None
    kb: SharedKnowledgeBase | None = None
    try:
        versions["database"] = database.migrate()
        message_log = MessageLog(
            database,
            retention_days=settings.messages_retention_days or None,
            max_queue=settings.messages_queue_size,
        ).start()
        kb = open_shared_knowledge_base(settings, database=database, encoder=enc)
        versions["kb_index"] = kb.version
        if settings.orders_seed_sample:
            seed_if_empty(SqlOrderConnector(database), today=date.today())
        orders = build_order_connector(settings, database)
        policy = load_policy(settings.respond_policy_path)
        drafter = build_suggestion_service(
            settings,
            encoder=enc,
            retriever=kb,
            signature=policy.signature,
            max_passages=policy.max_passages,
            index_version=lambda: kb.version,
        )
        feedback = FeedbackStore(database, intent_labels=intent.labels)
        responder = build_response_pipeline(
            policy,
            triager=triager,
            intent_labels=intent.labels,
            intent_version=intent.version,
            intent_params=intent.manifest.params if intent.manifest is not None else None,
            orders=orders,
            drafter=drafter,
            recorder=feedback,
            messages=message_log,
        )
        jobs = build_job_runner(
            settings,
            store=JobStore(database),
            env=LoadedJobEnvironment(triager, kb, database, settings),
        )
    except BaseException:
        if message_log is not None:
            message_log.close()
        if kb is not None:
            kb.close()
        if drafter is not None:
            drafter.close()
        if orders is not None:
            orders.close()
        database.close()
        raise
    versions["orders"] = orders.name
    versions["respond_policy"] = policy.version
    versions["drafts"] = f"{drafter.generator.name}; gate {drafter.gate.version}"
    versions["jobs"] = jobs.name
    versions["kb_follow"] = kb.follow_mode
    # Last, so that every numeric library is loaded and reachable by threadpoolctl.
    apply_thread_budget(thread_budget(settings))
    logger.info("resources loaded: %s", versions)
    return Resources(
        settings=settings,
        encoder=enc,
        intent=intent,
        triager=triager,
        versions=versions,
        database=database,
        orders=orders,
        kb=kb,
        drafter=drafter,
        feedback=feedback,
        responder=responder,
        message_log=message_log,
        triage_pipeline=RecordingTriager(triager, recorder=message_log),
        jobs=jobs,
    )
