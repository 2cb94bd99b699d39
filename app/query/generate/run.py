"""The generate → verify stages of one request, for both the whole answer and the streamed one.

Drafts are verified as the generator yields them, so a streaming backend's first sentence can be
announced (``on_verified``) as soon as it passes. A model server that fails or times out does not fail
the request: what was verified so far stands, and if nothing was, the extractive generator answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.query.context import Draft, GenerationInput, Verified, VerifiedSentence
from app.query.generate.base import GenerationError, Generator, iter_drafts
from app.query.verify import Verifier

log = logging.getLogger("guideground.generate")


@dataclass
class GenerationRun:
    verified: Verified
    generator: str  # the generator whose drafts were verified (the fallback's name after a failure)
    generate_ms: float  # time spent waiting for drafts
    verify_ms: float


class _Timed:
    """Iterates drafts, adds up the time spent waiting for them, and ends early (recording why) if the backend fails."""

    def __init__(self, it: Iterator[Draft]) -> None:
        self.it, self.waited = it, 0.0
        self.error: GenerationError | None = None

    def __iter__(self) -> Iterator[Draft]:
        while True:
            t = time.perf_counter()
            try:
                d = next(self.it)
            except StopIteration:
                return
            except GenerationError as exc:
                self.error = exc
                return
            finally:
                self.waited += time.perf_counter() - t
            yield d


def run_generation(
    generator: Generator, fallback: Generator, verifier: Verifier, inp: GenerationInput,
    on_verified: Callable[[VerifiedSentence], None] | None = None, stream: bool = False,
) -> GenerationRun:
    t0 = time.perf_counter()
    drafts = _Timed(iter_drafts(generator, inp) if stream else _lazy(generator, inp))
    verified = verifier.verify(drafts, inp, on_verified)
    name, waited = generator.name, drafts.waited
    if drafts.error is not None:
        log.error("generator %s failed: %s", generator.name, drafts.error)
        if not verified.sentences and generator is not fallback:
            log.warning("answering with the %s generator instead", fallback.name)
            again = _Timed(_lazy(fallback, inp))
            verified = verifier.verify(again, inp, on_verified)
            name, waited = fallback.name, waited + again.waited
    total = (time.perf_counter() - t0) * 1000
    return GenerationRun(verified, name, round(waited * 1000, 3), round(total - waited * 1000, 3))


def _lazy(generator: Generator, inp: GenerationInput) -> Iterator[Draft]:
    """The non-streaming call, inside the iterator so its time and failure are the iterator's."""
    yield from generator.generate(inp)
