"""The default engine: units built in worker processes (one-thread encoder each), or in this process.

Two ways to use the cores. Worker processes (``ingest.workers``, default one per core, at most 4)
each take whole files: parse, chunk, then embed that file's chunks with their own one-thread encoder,
so a file's vectors depend on that file alone and parsing never waits for embedding. On 2 cores two
one-thread ONNX int8 encoders encode ~15 % more chunks per second than one two-thread encoder, and
parsing overlaps embedding. In this process (``workers=0``, small jobs, or an embedder the workers
cannot rebuild, such as a test's fake): parse in turn, then embed windows of files length-sorted
together with the caller's embedder.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ingest.documents import EmbeddingParams, IngestParams
from ingest.embed import Embedder
from ingest.units import UnitResult, UnitTask, embed_units, prepare_unit

MIN_FILES_FOR_WORKERS = 8  # below this, starting worker processes costs more than it saves
AHEAD_FILES = 32  # files handed to the pool before their results are collected (bounds memory)

_worker_embedder: Embedder | None = None


def _exit_with_parent(parent: int) -> None:
    """A killed ingest (SIGKILL, OOM) must not leave its workers encoding: they exit within a second."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(embedding_json: str) -> None:
    global _worker_embedder
    from ingest.embed import get_embedder

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="exit-with-parent").start()

    params = EmbeddingParams.model_validate_json(embedding_json).model_copy(update={"threads": 1})
    _worker_embedder = get_embedder(params)


def _build_unit(task: UnitTask, params: IngestParams) -> tuple[UnitResult, int]:
    assert _worker_embedder is not None
    unit = prepare_unit(task, params)
    return unit, embed_units([unit], _worker_embedder, params.embedding.pooling)


def worker_count(params: IngestParams, embedder: Any, n_tasks: int) -> int:
    """How many worker processes this job uses (0: build in this process)."""
    if n_tasks < MIN_FILES_FOR_WORKERS:
        return 0
    own = getattr(embedder, "params", None)
    rebuildable = type(embedder).__name__ in ("SentenceTransformerEmbedder", "OnnxEmbedder") and own == params.embedding
    if not rebuildable:  # the workers load the encoder from settings: only when that is the caller's encoder
        return 0
    n = params.workers if params.workers is not None else min(os.cpu_count() or 1, 4)
    return min(n, n_tasks)


class LocalEngine:
    name = "local"

    def run(self, tasks: list[UnitTask], params: IngestParams, embedder: Embedder, progress=None) -> Iterator[tuple[list[UnitResult], int]]:
        workers = worker_count(params, embedder, len(tasks))
        if workers:
            yield from self._in_workers(tasks, params, workers, progress)
        else:
            yield from self._in_process(tasks, params, embedder, progress)

    @staticmethod
    def _in_workers(tasks: list[UnitTask], params: IngestParams, workers: int, progress) -> Iterator[tuple[list[UnitResult], int]]:
        # spawn, not fork: this process may hold an encoder's thread pool, which a forked child must not inherit.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(params.embedding.model_dump_json(),)) as pool:
            pending: deque[Future[tuple[UnitResult, int]]] = deque()
            todo = iter(tasks)
            for task in todo:
                pending.append(pool.submit(_build_unit, task, params))
                if len(pending) >= AHEAD_FILES:
                    break
            done = 0
            while pending:
                unit, n_texts = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(_build_unit, nxt, params))
                done += 1
                if progress:
                    progress("build", done, len(tasks))
                yield [unit], n_texts

    @staticmethod
    def _in_process(tasks: list[UnitTask], params: IngestParams, embedder: Embedder, progress) -> Iterator[tuple[list[UnitResult], int]]:
        # Windows of whole files: the encoder sorts each window by length (padding is the main CPU
        # cost), and every finished window is stored before the next starts, so a killed build
        # resumes from its artefacts. One window covers today's demo and small updates entirely.
        window: list[UnitResult] = []
        size = 0
        for i, task in enumerate(tasks):
            u = prepare_unit(task, params)
            if progress:
                progress("parse", i + 1, len(tasks))
            window.append(u)
            size += len(u.chunks)
            if size >= params.embed_window_chunks:
                yield window, embed_units(window, embedder, params.embedding.pooling, progress)
                window, size = [], 0
        if window:
            yield window, embed_units(window, embedder, params.embedding.pooling, progress)
