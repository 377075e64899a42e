"""The knowledge base's fusion weights: GET/PUT /v1/kb/fusion, GET /v1/kb/fusion/history.

Operators only (``admin``, like ``/v1/kb/reindex``): the weights change what every search
and every drafted reply finds. A PUT is recorded in the database with the key's name and
every worker searches with the new weights within a poll interval (this one at once);
``triage kb tune-fusion`` records weights chosen on development queries the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kb_index.fusion_choice import FusionChoice, FusionSource
from kb_index.hybrid_retriever import FusionConfig, FusionMethod, Normalisation
from service.deps import ActorDep, KbDep
from service.schemas import DomainOut, WireModel

router = APIRouter(prefix="/kb/fusion", tags=["knowledge base"])

#: Field defaults of a PUT: the shipped weights.
_SHIPPED = FusionConfig()
Weight = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Bonus = Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)]


class FusionWeightsIn(WireModel):
    """Fusion weights to put in force; an omitted field takes the shipped default."""

    method: FusionMethod = _SHIPPED.method
    dense_weight: Weight = Field(
        default=_SHIPPED.dense_weight, description="Dense share of the body score (1: dense only)."
    )
    normalisation: Normalisation = _SHIPPED.normalisation
    title_weight: Bonus = Field(
        default=_SHIPPED.title_weight, description="Bonus for query words in the title."
    )
    title_dense_weight: Bonus = Field(
        default=_SHIPPED.title_dense_weight,
        description="Bonus for the query's similarity to the title alone.",
    )
    body_weight: Weight = Field(
        default=_SHIPPED.body_weight, description="Weight of the body score (0: title alone)."
    )
    rrf_k: Annotated[int, Field(ge=1, le=1_000)] = _SHIPPED.rrf_k
    depth: Annotated[int, Field(ge=1, le=1_000)] = _SHIPPED.depth

    def to_domain(self) -> FusionChoice:
        """The weights as set by hand (no development queries, no figures)."""
        return FusionChoice(fusion=FusionConfig(**self.model_dump()), source="api")


class FusionWeightsOut(DomainOut):
    """The weights proper."""

    method: FusionMethod
    dense_weight: float
    normalisation: Normalisation
    title_weight: float
    title_dense_weight: float
    body_weight: float
    rrf_k: int
    depth: int


class QuerySetOut(DomainOut):
    """The development queries weights were chosen on."""

    name: str
    count: int
    sha256: str


class FusionOut(DomainOut):
    """The weights every search uses, and where they came from."""

    fusion: FusionWeightsOut
    source: FusionSource = Field(
        description="`tune-fusion`, `api` (set by PUT), `import` (came with the files), or "
        "`default` (nothing recorded: the shipped weights)."
    )
    queries: QuerySetOut | None
    figures: dict[str, dict[str, float]] = Field(
        description="Metrics per retriever on `queries`; `hybrid` is these weights."
    )
    baseline: str | None = Field(description="The best single retriever on `queries`.")
    encoder: str | None
    actor: str | None
    at: datetime | None
    version: int | None = Field(description="The knowledge-base version the recording made.")


class FusionHistoryOut(BaseModel):
    """Every recorded choice, oldest first; the last one is in force."""

    items: list[FusionOut]


@router.get("", response_model=FusionOut)
def get_fusion(kb: KbDep) -> FusionOut:
    """The fusion weights in force, with who set them, when, and on which queries."""
    return FusionOut.model_validate(kb.fusion_choice)


@router.put("", response_model=FusionOut)
def put_fusion(body: FusionWeightsIn, kb: KbDep, actor: ActorDep) -> FusionOut:
    """Put weights in force for every worker (recorded with the key's name); answers once
    committed, and this worker already searches with them."""
    return FusionOut.model_validate(kb.record_fusion(body.to_domain(), actor=actor))


@router.get("/history", response_model=FusionHistoryOut)
def fusion_history(kb: KbDep) -> FusionHistoryOut:
    """Every fusion choice recorded in the database, oldest first."""
    return FusionHistoryOut(items=[FusionOut.model_validate(c) for c in kb.fusion_history()])
