"""Generators: `extractive` (default, verbatim quotes), `openai` (any OpenAI-compatible server), `llamacpp`
(the packaged local model on a llama.cpp server the service runs). LLM backends import lazily: with the
default, neither the openai client nor llama.cpp is loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.query.generate.base import (
    GenerationError,
    Generator,
    generator_names,
    get_generator,
    iter_drafts,
    register_generator,
)
from app.query.generate.extractive import ExtractiveGenerator
from app.query.generate.extractive import _factory as _extractive

if TYPE_CHECKING:
    from app.settings import Settings


def _openai(settings: Settings) -> Generator:
    from app.query.generate.openai_compat import from_settings

    return from_settings(settings)


def _llamacpp(settings: Settings) -> Generator:
    from app.query.generate.llamacpp import from_settings

    return from_settings(settings)


register_generator("extractive", _extractive)
register_generator("openai", _openai)
register_generator("llamacpp", _llamacpp)

__all__ = ["ExtractiveGenerator", "GenerationError", "Generator", "generator_names", "get_generator", "iter_drafts", "register_generator"]
