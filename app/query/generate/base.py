"""The generation stage: a Generator turns a question and numbered passages into draft sentences.

One required method, ``generate``. Backends register a factory under a name; fakes register the same
way as real backends, so tests and settings select them alike (GUIDEGROUND_ANSWER__GENERATOR).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from app.errors import ConfigError
from app.query.context import Draft, GenerationInput

if TYPE_CHECKING:
    from app.settings import Settings


class GenerationError(RuntimeError):
    """The model server failed or timed out; the service answers extractively instead."""


class Generator(Protocol):
    name: str

    def generate(self, inp: GenerationInput) -> list[Draft]: ...


GeneratorFactory = Callable[["Settings"], Generator]
_REGISTRY: dict[str, GeneratorFactory] = {}


def register_generator(name: str, factory: GeneratorFactory) -> None:
    _REGISTRY[name] = factory


def generator_names() -> list[str]:
    return sorted(_REGISTRY)


def get_generator(settings: Settings, name: str | None = None) -> Generator:
    name = name or settings.answer.generator
    if name not in _REGISTRY:
        raise ConfigError(f"unknown generator '{name}'", hint=f"choose one of: {', '.join(generator_names())}")
    return _REGISTRY[name](settings)


def iter_drafts(gen: Generator, inp: GenerationInput) -> Iterator[Draft]:
    """Drafts as the backend produces them (streaming backends expose ``stream``)."""
    stream = getattr(gen, "stream", None)
    if callable(stream):
        yield from stream(inp)
    else:
        yield from gen.generate(inp)
