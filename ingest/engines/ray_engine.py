"""The per-file stages on a Ray cluster with Ray Data: parse/chunk as tasks, the embedder as an actor pool.

    guideground ingest guidelines/ --engine ray                       # a local Ray instance
    guideground ingest guidelines/ --engine ray --address auto        # the cluster this node joined

Each task carries its file's bytes, so workers need no shared filesystem; finished units stream
back to the driver, which stores their artefacts and publishes the version (the index root stays on
the driver). Workers must be able to import ``ingest`` (install this package on every node, or
pass a ``runtime_env``; see docs/scale.md). The stage functions are the in-process engine's, so
chunk ids and texts are identical and vectors agree within float tolerance (batch composition).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np

from ingest.documents import IngestParams
from ingest.embed import Embedder
from ingest.errors import ConfigError
from ingest.units import UnitResult, UnitTask

FILES_PER_EMBED_BATCH = 16  # files an actor embeds together (length-sorted across them)


def _prepare(row: dict[str, Any], params_json: str) -> dict[str, Any]:
    from ingest.units import prepare_unit

    task = pickle.loads(row["task"])
    unit = prepare_unit(task, IngestParams.model_validate_json(params_json))
    return {"unit": pickle.dumps(unit)}


class _EmbedActor:
    """One encoder per actor, loaded once; embeds a batch of prepared units."""

    def __init__(self, params_json: str) -> None:
        from ingest.embed import get_embedder

        self.params = IngestParams.model_validate_json(params_json)
        self.embedder = get_embedder(self.params.embedding)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from ingest.units import embed_units

        units = [pickle.loads(b) for b in batch["unit"]]
        n_texts = embed_units(units, self.embedder, self.params.embedding.pooling)
        return {"units": np.array([pickle.dumps(units)], dtype=object), "n_texts": np.array([n_texts], dtype=np.int64)}


class RayEngine:
    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def _connect(self, actors: int) -> bool:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "the Ray engine needs Ray", hint="pip install 'guideground[ray]' (or use --engine local)"
            ) from None
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
        if self.address:
            kwargs["address"] = self.address
        else:  # a local instance sized for this machine; a small object store leaves RAM to the encoders
            # Scheduling slots, not cores: room for every embed actor plus parse tasks, so a small
            # machine cannot deadlock with all slots held by actors waiting for parsed files.
            kwargs.update(num_cpus=max(os.cpu_count() or 1, actors + 1), object_store_memory=512 * 1024 * 1024)
        ray.init(**kwargs)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        return True

    def run(
        self, tasks: list[UnitTask], params: IngestParams, embedder: Embedder, progress=None
    ) -> Iterator[tuple[list[UnitResult], int]]:
        if not tasks:
            return
        import ray

        started = self._connect(params.ray_embed_actors)
        try:
            pj = params.model_dump_json()
            ds: Any = ray.data.from_items([{"task": pickle.dumps(t)} for t in tasks], override_num_blocks=min(len(tasks), 200))
            ds = ds.map(_prepare, fn_kwargs={"params_json": pj}, num_cpus=1)
            ds = ds.map_batches(
                _EmbedActor,
                fn_constructor_kwargs={"params_json": pj},
                batch_size=FILES_PER_EMBED_BATCH,
                concurrency=params.ray_embed_actors,
                num_cpus=1,
                batch_format="numpy",
            )
            done = 0
            for row in ds.iter_rows():
                units: list[UnitResult] = pickle.loads(row["units"])
                done += len(units)
                if progress:
                    progress("units", done, len(tasks))
                yield units, int(row["n_texts"])
        finally:
            if started and not self.address:
                ray.shutdown()
