"""What the stages of one request hand each other (see app/query/service.py for the order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from app.query.answer import Picked
from app.query.retrieve import Candidate
from ingest.documents import Chunk
from ingest.store import LoadedIndex

Span = tuple[int, int, int]  # (passage number, start, end) into that passage's chunk text


@dataclass
class Passage:
    n: int  # 1-based number shown to a generator
    row: int
    chunk: Chunk
    candidate: Candidate


@dataclass
class GenerationInput:
    question: str
    passages: list[Passage]
    qvec: np.ndarray
    index: LoadedIndex
    pool: list[Picked] = field(default_factory=list)  # quotable sentences of the passages, scored
    # Sentences of passages added after the gate for one purpose (a statement of whom a recommendation applies to):
    # quoted only for that purpose, never competing with the pool for the answer's other places.
    scope: list[Picked] = field(default_factory=list)

    def passage(self, n: int) -> Passage | None:
        return next((p for p in self.passages if p.n == n), None)

    def by_row(self, row: int) -> Passage | None:
        return next((p for p in self.passages if p.row == row), None)


@dataclass
class Draft:
    text: str
    passages: list[int]  # passage numbers the sentence claims to rest on
    span: Span | None = None  # set when the sentence is quoted verbatim from a passage


@dataclass
class VerifiedSentence:
    text: str
    spans: list[Span]
    outcome: Literal["kept", "repaired"] = "kept"


@dataclass
class Verified:
    sentences: list[VerifiedSentence]
    kept: int = 0
    repaired: int = 0
    dropped: int = 0
