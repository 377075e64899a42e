"""Picks the reply generator ``TRIAGE_DRAFTS_GENERATOR`` names.

Each name maps to the module and factory function that build it; the module is imported
only when its name is chosen, so the optional LLM client is never loaded for the offline
default, and the protocol module (``reply_generator``) never imports an implementation.
A new generator is one more module with a ``build_*(context)`` function and one entry
here plus its name in ``settings.ReplyGeneratorName``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from service.drafting.reply_generator import GeneratorContext, ReplyGenerator
from service.settings import ReplyGeneratorName

#: Generator name → ``module:factory``; the factory takes a ``GeneratorContext``.
GENERATOR_FACTORIES: Mapping[ReplyGeneratorName, str] = {
    "extractive": "service.drafting.extractive_reply_generator:build_extractive_generator",
    "openai_chat": "service.drafting.llm_reply_generator:build_llm_generator",
}


def build_reply_generator(name: ReplyGeneratorName, context: GeneratorContext) -> ReplyGenerator:
    """The generator called ``name``, built from ``context``."""
    module_name, _, attribute = GENERATOR_FACTORIES[name].partition(":")
    factory: Callable[[GeneratorContext], ReplyGenerator] = getattr(
        importlib.import_module(module_name), attribute
    )
    return factory(context)
