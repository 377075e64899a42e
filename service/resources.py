"""Everything the lifespan loads once: encoder, models, indexes, database, pipelines."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kb_index.shared_knowledge_base import SharedKnowledgeBase
from models.encoder_factory import PER_TEXT_BACKENDS
from models.encoder_factory import build_encoder as build_backend
from models.errors import ArtifactError
from models.intent_classifier import IntentClassifier
from models.language_detector import TRUSTED_BY_DEFAULT, LanguageDetector
from models.message_analyzer import MessageAnalyzer
from models.micro_batching_encoder import MicroBatchingEncoder
from models.model_registry import ModelKind, ModelRegistry
from models.protocols import Encoder
from models.routing_policy import RoutingPolicy
from models.thread_budget import ThreadBudget, apply_thread_budget, usable_cores
from models.triager import Triager
from models.urgency_classifier import UrgencyClassifier
from service.database import Database, DatabaseTimeouts
from service.drafting.answerability_gate import AnswerabilityGate
from service.drafting.gate_family import gate_dir
from service.drafting.suggestion_service import SuggestionService, build_suggestion_service
from service.feedback.feedback_store import FeedbackStore
from service.jobs.job_environment import LoadedJobEnvironment
from service.jobs.job_runner import JobRunner
from service.jobs.job_runner_factory import build_job_runner
from service.jobs.job_store import JobStore
from service.kb_rebuild import open_shared_knowledge_base
from service.messages.message_log import MessageLog
from service.messages.message_spool import SPOOL_DIRNAME
from service.messages.recording_triager import RecordingTriager
from service.model_slot import ModelSlot
from service.orders.order_connector import OrderConnector
from service.orders.order_connector_factory import build_order_connector
from service.orders.sample_orders import seed_if_empty
from service.orders.sql_order_connector import SqlOrderConnector
from service.respond.respond_policy import RespondPolicy, load_policy
from service.respond.response_pipeline import ResponsePipeline, build_response_pipeline
from service.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingModels:
    """The models a promotion replaces and everything built on them. One frozen set: a
    request reads it once (``Resources.models.current``) and uses it to the end."""

    intent: IntentClassifier
    triager: Triager
    drafter: SuggestionService
    feedback: FeedbackStore
    responder: ResponsePipeline
    triage_pipeline: RecordingTriager
    versions: dict[str, str]


@dataclass(frozen=True)
class Resources:
    """Loaded, verified state shared by all requests. Built once per process; every
    field is required, so a route never meets a half-loaded service. The intent, urgency
    and gate models sit in ``models``, a slot that follows the model registry."""

    settings: Settings
    encoder: Encoder
    models: ModelSlot[ServingModels]
    versions: dict[str, str]
    database: Database
    orders: OrderConnector
    kb: SharedKnowledgeBase
    message_log: MessageLog
    jobs: JobRunner

    @property
    def intent(self) -> IntentClassifier:
        """The intent classifier serving now."""
        return self.models.current.intent

    @property
    def triager(self) -> Triager:
        """The triager serving now."""
        return self.models.current.triager

    @property
    def drafter(self) -> SuggestionService:
        """The drafting service serving now."""
        return self.models.current.drafter

    @property
    def feedback(self) -> FeedbackStore:
        """The feedback store (checks corrections against the serving intent labels)."""
        return self.models.current.feedback

    @property
    def responder(self) -> ResponsePipeline:
        """The response pipeline serving now."""
        return self.models.current.responder

    @property
    def triage_pipeline(self) -> RecordingTriager:
        """``/v1/triage`` and ``/v1/triage/batch``: the serving triager, logging every
        message."""
        return self.models.current.triage_pipeline

    @property
    def current_versions(self) -> dict[str, str]:
        """``versions`` as loaded, with the serving models' versions and the knowledge
        base's version now (both change without a restart)."""
        return {**self.versions, **self.models.current.versions, "kb_index": self.kb.version}

    def model_report(self) -> dict[str, Any]:
        """For ``/readyz`` and metrics: the registry version serving per kind, and why
        the last promotion was refused (``None`` when it was not)."""
        return {
            "models": self.models.active_versions(),
            "model_reload_error": self.models.last_error,
        }

    def close(self) -> None:
        """Release connections and files held by the resources."""
        self.models.close()
        self.message_log.close()
        self.jobs.close()
        self.kb.close()
        # Every drafter of every swap shares one generator; closing one closes it.
        self.models.current.drafter.close()
        self.orders.close()
        self.database.close()
        if isinstance(self.encoder, MicroBatchingEncoder):
            self.encoder.close()


def encoder_lanes(settings: Settings) -> int:
    """Encoder calls that may run at once: one for a batching backend (its batches use the
    cores), ``TRIAGE_ENCODER_LANES`` or the usable cores for a per-text one (onnx-int8)."""
    if settings.encoder_backend not in PER_TEXT_BACKENDS:
        return 1
    return settings.encoder_lanes or usable_cores()


def thread_budget(settings: Settings) -> ThreadBudget:
    """Thread counts per pool from the settings (README "Performance")."""
    return ThreadBudget.for_machine(
        compute=settings.compute_threads, blas=settings.blas_threads, faiss=settings.faiss_threads
    )


def build_encoder(settings: Settings, *, threads: int | None = None) -> Encoder:
    """The configured encoder backend, weights loaded (no batching: CLI and training);
    ``threads`` overrides the thread budget's compute threads."""
    return build_backend(
        settings.encoder_backend,
        source=settings.encoder_path,
        name=settings.encoder_name,
        export_dir=settings.encoder_export_dir,
        threads=threads or thread_budget(settings).compute,
    )


def serving_encoder_threads(settings: Settings) -> int:
    """The serving encoder's intra-op threads: ``TRIAGE_COMPUTE_THREADS``, else the usable
    cores shared among its lanes (two one-thread int8 calls at once get more done than one
    two-thread call: a short text does not split well over two threads)."""
    return settings.compute_threads or max(1, usable_cores() // encoder_lanes(settings))


def build_serving_encoder(settings: Settings) -> MicroBatchingEncoder:
    """The configured encoder behind the micro-batching worker every request shares."""
    return MicroBatchingEncoder(
        build_encoder(settings, threads=serving_encoder_threads(settings)),
        max_batch=settings.encoder_batch_size,
        max_wait_ms=settings.encoder_batch_wait_ms,
        lanes=encoder_lanes(settings),
    )


@dataclass(frozen=True)
class TriageParts:
    """What the triager uses besides the registry's models, built once per process."""

    language: LanguageDetector
    routing: RoutingPolicy
    analyzer: MessageAnalyzer

    @property
    def versions(self) -> dict[str, str]:
        """Versions of these parts for ``/readyz``."""
        return {
            "sentiment": self.analyzer.sentiment.version,
            "language_detector": self.language.version,
        }


def build_triage_parts(settings: Settings) -> TriageParts:
    """Language detector, routing policy and message analyzer; a bad routing file raises."""
    return TriageParts(
        # The loaded model only: each triager takes a view of it that trusts its intent
        # model's languages (``trusted_languages``).
        language=LanguageDetector().load(),
        routing=RoutingPolicy.from_file(settings.routing_file),
        analyzer=MessageAnalyzer(),
    )


def trusted_languages(
    settings: Settings, intent: IntentClassifier, *, detected: Sequence[str]
) -> tuple[str, ...]:
    """The languages the triage may trust this intent model on.

    ``TRIAGE_SUPPORTED_LANGUAGES`` when set; otherwise the languages the model's manifest
    names (a model built from an intents spec records its ``languages.supported``), so a
    promoted model brings its own; otherwise English. A setting that disagrees with the
    model is served as set, with a warning naming both: trusting a language the examples
    were not written in forces its messages into the intents, and leaving one out withholds
    every auto-reply from it.
    """
    declared = intent.languages
    if declared is not None:
        unknown = [c for c in declared if c not in detected]
        if unknown:
            raise ArtifactError(
                f"intent model {intent.version} names languages {unknown} that the language "
                f"detector does not know (known: {', '.join(detected)})"
            )
    if settings.supported_languages is None:
        return declared or TRUSTED_BY_DEFAULT
    if declared is not None and set(declared) != set(settings.supported_languages):
        logger.warning(
            "TRIAGE_SUPPORTED_LANGUAGES=%s, but intent model %s was written in %s; "
            "serving with the setting",
            ",".join(settings.supported_languages),
            intent.version,
            ",".join(declared),
        )
    return settings.supported_languages


def assemble_triager(
    settings: Settings, parts: TriageParts, *, intent: IntentClassifier, urgency: UrgencyClassifier
) -> Triager:
    """The triager over these models; warns when routing names categories the intent
    model never produces."""
    categories = {c for c in intent.categories.values() if c}
    unknown = parts.routing.unknown_categories(categories) if categories else []
    if unknown:
        # Not fatal: a smaller intent model may simply not produce every category.
        logger.warning(
            "routing file %s names categories the intent model never produces: %s",
            settings.routing_file,
            unknown,
        )
    return Triager(
        intent=intent,
        urgency=urgency,
        language=parts.language.for_languages(
            trusted_languages(settings, intent, detected=parts.language.languages)
        ),
        routing=parts.routing,
        analyzer=parts.analyzer,
    )


def build_triager(
    settings: Settings, *, intent: IntentClassifier, encoder: Encoder
) -> tuple[Triager, dict[str, str]]:
    """The triager with urgency, language and routing; any bad artifact raises."""
    urgency = UrgencyClassifier.from_artifact(settings.urgency_model_dir, encoder=encoder)
    parts = build_triage_parts(settings)
    triager = assemble_triager(settings, parts, intent=intent, urgency=urgency)
    versions = {
        "urgency_model": urgency.version,
        **parts.versions,
        "routing": str(settings.routing_file),
    }
    return triager, versions


def drafter_with_gate(base: SuggestionService, gate: AnswerabilityGate) -> SuggestionService:
    """``base`` with another answerability gate; retriever, generator and caches shared."""
    return SuggestionService(
        retriever=base.retriever,
        selector=base.selector,
        gate=gate,
        generator=base.generator,
        composer=base.composer,
        max_passages=base.max_passages,
        index_version=base.index_version,
        articles=base.articles,
        article_chars=base.article_chars,
    )


def configured_model_dirs(settings: Settings, *, encoder: Encoder) -> dict[ModelKind, Path]:
    """The artifact folder the settings name per kind the registry serves. The gate is
    left out when a fixed threshold (``drafts_min_relevance``) replaces it."""
    dirs: dict[ModelKind, Path] = {
        "intent": settings.intent_model_dir,
        "urgency": settings.urgency_model_dir,
    }
    if settings.drafts_min_relevance is None:
        dirs["gate"] = gate_dir(settings, encoder)
    return dirs


@dataclass(frozen=True)
class ServingModelLoader:
    """Builds ``ServingModels`` from the registry's active folders (at startup and on
    every promotion); any bad artifact or an intent model the policy cannot serve raises."""

    settings: Settings
    encoder: Encoder
    parts: TriageParts
    base_drafter: SuggestionService
    policy: RespondPolicy
    orders: OrderConnector
    database: Database
    message_log: MessageLog

    def __call__(self, paths: Mapping[ModelKind, Path]) -> ServingModels:
        """Load and verify the models in ``paths`` and wire them up."""
        intent = IntentClassifier.from_artifact(paths["intent"], encoder=self.encoder)
        urgency = UrgencyClassifier.from_artifact(paths["urgency"], encoder=self.encoder)
        triager = assemble_triager(self.settings, self.parts, intent=intent, urgency=urgency)
        gate_path = paths.get("gate")
        drafter = (
            drafter_with_gate(
                self.base_drafter, AnswerabilityGate.from_artifact(gate_path, encoder=self.encoder)
            )
            if gate_path is not None
            else self.base_drafter
        )
        feedback = FeedbackStore(self.database, intent_labels=intent.labels)
        responder = build_response_pipeline(
            self.policy,
            triager=triager,
            intent_labels=intent.labels,
            intent_version=intent.version,
            intent_params=intent.manifest.params if intent.manifest is not None else None,
            orders=self.orders,
            drafter=drafter,
            recorder=feedback,
            messages=self.message_log,
        )
        return ServingModels(
            intent=intent,
            triager=triager,
            drafter=drafter,
            feedback=feedback,
            responder=responder,
            triage_pipeline=RecordingTriager(triager, recorder=self.message_log),
            versions={
                "intent_model": intent.version,
                "urgency_model": urgency.version,
                "drafts": f"{drafter.generator.name}; gate {drafter.gate.version}",
            },
        )


def load_resources(settings: Settings, *, encoder: Encoder | None = None) -> Resources:
    """Load and verify every artifact; any failure propagates and stops startup.

    The folders the settings name for the intent, urgency and gate models are adopted
    into the model registry (``models/model_registry.py``); what is served is the
    registry's active version of each, followed while the process runs.
    """
    enc = encoder if encoder is not None else build_serving_encoder(settings)
    registry = ModelRegistry(settings.resolved_model_registry_dir)
    configured = configured_model_dirs(settings, encoder=enc)
    for kind, folder in configured.items():
        registry.adopt(kind, folder)
    parts = build_triage_parts(settings)
    versions = {
        "encoder": enc.model_id,
        **parts.versions,
        "routing": str(settings.routing_file),
    }
    database = Database(
        settings.resolved_database_url,
        timeouts=DatabaseTimeouts(
            connect_s=settings.database_connect_timeout_s,
            statement_s=settings.database_statement_timeout_s,
            pool_s=settings.database_pool_timeout_s,
        ),
    )
    orders: OrderConnector | None = None
    drafter: SuggestionService | None = None
    message_log: MessageLog | None = None
    kb: SharedKnowledgeBase | None = None
    try:
        versions["database"] = database.migrate()
        message_log = MessageLog(
            database,
            spool_dir=settings.data_dir / SPOOL_DIRNAME,
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
        loader = ServingModelLoader(
            settings=settings,
            encoder=enc,
            parts=parts,
            base_drafter=drafter,
            policy=policy,
            orders=orders,
            database=database,
            message_log=message_log,
        )
        slot = ModelSlot(
            registry,
            kinds=tuple(configured),
            loader=loader,
            poll_interval_s=settings.model_poll_interval_s,
        )
        jobs = build_job_runner(
            settings,
            store=JobStore(database),
            # A promotion swaps the triager: jobs read the one serving when they run.
            env=LoadedJobEnvironment(lambda: slot.current.triager, kb, database, settings),
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
    versions["jobs"] = jobs.name
    versions["kb_follow"] = kb.follow_mode
    # Last, so that every numeric library is loaded and reachable by threadpoolctl.
    apply_thread_budget(thread_budget(settings))
    logger.info("resources loaded: %s", {**versions, **slot.current.versions})
    return Resources(
        settings=settings,
        encoder=enc,
        models=slot,
        versions=versions,
        database=database,
        orders=orders,
        kb=kb,
        message_log=message_log,
        jobs=jobs,
    )
