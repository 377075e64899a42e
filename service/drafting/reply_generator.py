"""The ``ReplyGenerator`` protocol and the registry generators are chosen from by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from models.errors import InvalidInputError
from service.drafting.draft import Draft, DraftRequest, Passage
from service.drafting.sentence_selector import ScoredPassages

if TYPE_CHECKING:
    from service.drafting.reply_composer import ReplyComposer
    from service.drafting.sentence_selector import SentenceSelector
    from service.settings import Settings


@dataclass(frozen=True)
class Evidence:
    """What a generator may build on: passages relevant enough to answer from.

    ``scored`` covers exactly ``passages`` (same order); ``confidence`` is the gate's
    probability that they answer the message, ``passage_confidence`` the same per passage.
    ``preferred`` indexes the passages of articles the help centre names for the
    message's intent: the first draft answers from them when there are any.
    """

    passages: tuple[Passage, ...]
    scored: ScoredPassages
    confidence: float
    passage_confidence: tuple[float, ...]
    preferred: tuple[int, ...] = ()


@dataclass(frozen=True)
class Generation:
    """Drafts from one generator, and why it fell back to another one if it did."""

    drafts: tuple[Draft, ...]
    generator: str
    fallback_reason: str | None = None


class ReplyGenerator(Protocol):
    """Writes drafts for a message from the evidence; never states what the evidence lacks."""

    @property
    def name(self) -> str:
        """Registry name, recorded with every suggestion."""
        ...

    def generate(self, request: DraftRequest, evidence: Evidence, *, set_id: str) -> Generation:
        """Up to three drafts, best first; draft ids start with ``set_id``."""
        ...


@dataclass(frozen=True)
class GeneratorContext:
    """What a generator factory may use."""

    settings: Settings
    selector: SentenceSelector
    composer: ReplyComposer


GeneratorFactory = Callable[[GeneratorContext], ReplyGenerator]
_REGISTRY: dict[str, GeneratorFactory] = {}


def register_generator(name: str) -> Callable[[GeneratorFactory], GeneratorFactory]:
    """Decorator registering a generator factory under ``name``."""

    def decorate(factory: GeneratorFactory) -> GeneratorFactory:
        _REGISTRY[name] = factory
        return factory

    return decorate


def generator_names() -> Sequence[str]:
    """Registered generator names."""
    _load_builtin()
    return sorted(_REGISTRY)


def build_reply_generator(name: str, context: GeneratorContext) -> ReplyGenerator:
    """The generator registered as ``name``.

    Raises:
        InvalidInputError: no generator has that name.
    """
    _load_builtin()
    factory = _REGISTRY.get(name)
    if factory is None:
        raise InvalidInputError(
            f"drafts_generator: {name!r} is not one of {', '.join(sorted(_REGISTRY))}"
        )
    return factory(context)


def _load_builtin() -> None:
    # Importing the modules registers their generators.
    import service.drafting.extractive_reply_generator
    import service.drafting.llm_reply_generator  # noqa: F401
