"""Generators: `extractive` (default, verbatim quotes); LLM backends register here too."""

from app.query.generate.base import Generator, generator_names, get_generator, iter_drafts, register_generator
from app.query.generate.extractive import ExtractiveGenerator
from app.query.generate.extractive import _factory as _extractive

register_generator("extractive", _extractive)

__all__ = ["ExtractiveGenerator", "Generator", "generator_names", "get_generator", "iter_drafts", "register_generator"]
