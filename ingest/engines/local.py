"""The default engine: every stage in this process, embedding windows of files length-sorted together."""

from __future__ import annotations

from collections.abc import Iterator

from ingest.documents import IngestParams
from ingest.embed import Embedder
from ingest.units import UnitResult, UnitTask, embed_units, prepare_unit


class LocalEngine:
    name = "local"

    def run(self, tasks: list[UnitTask], params: IngestParams, embedder: Embedder, progress=None) -> Iterator[tuple[list[UnitResult], int]]:
        prepared: list[UnitResult] = []
        for i, task in enumerate(tasks):
            prepared.append(prepare_unit(task, params))
            if progress:
                progress("parse", i + 1, len(tasks))
        # Windows of whole files: the encoder sorts each window by length (padding is the main CPU
        # cost), and every finished window is stored before the next starts, so a killed build
        # resumes from its artefacts. One window covers today's demo and small updates entirely.
        window: list[UnitResult] = []
        size = 0
        for u in prepared:
            window.append(u)
            size += len(u.chunks)
            if size >= params.embed_window_chunks:
                yield window, embed_units(window, embedder, params.embedding.pooling, progress)
                window, size = [], 0
        if window:
            yield window, embed_units(window, embedder, params.embedding.pooling, progress)
