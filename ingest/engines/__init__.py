"""Engines run the per-file stages (parse → chunk → embed) of the units an ingest must build.

An engine yields batches of finished units (in any order) with the number of texts it encoded for
them; the pipeline stores each unit's artefact as it arrives and merges them in file order. The
in-process engine is the default; ``ray`` runs the same stage functions on a Ray cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from ingest.documents import IngestParams
from ingest.embed import Embedder
from ingest.errors import ConfigError
from ingest.units import UnitResult, UnitTask

Progress = Callable[[str, int, int], None]


class Engine(Protocol):
    name: str

    def run(
        self, tasks: list[UnitTask], params: IngestParams, embedder: Embedder, progress: Progress | None
    ) -> Iterator[tuple[list[UnitResult], int]]: ...


def get_engine(name: str = "local", address: str | None = None) -> Engine:
    if name == "local":
        from ingest.engines.local import LocalEngine

        return LocalEngine()
    if name == "ray":
        from ingest.engines.ray_engine import RayEngine

        return RayEngine(address)
    raise ConfigError(f"unknown ingest engine '{name}'", hint="use 'local' (default) or 'ray'")
