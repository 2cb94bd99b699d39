"""Ingest pipeline: collect → sniff → per-file units (parse → chunk → flag → embed) → merge → publish.

Each source file is a work unit whose artefact (chunks, vectors, manifest entry) is keyed by the
file's sha256, name, sidecar row and the pipeline fingerprint (``ingest.units``). A run sniffs every
file, reuses the previous version's rows or a stored artefact where it can, has an engine
(``ingest.engines``: in-process or Ray) build the rest, stores each new artefact, then merges all
units in file order and publishes one version atomically (``ingest.store``).

Dense vectors ("late chunking", the default): each chunk's embedding text (title and nearest
headings, then the chunk) is encoded once; the chunk vector is the model's own mean-pooled
embedding and each sentence vector pools the same pass's contextual token vectors inside the
sentence's span. The extractive answerer reuses the sentence vectors at query time, so a query
costs one encoder call and ingest costs one encoder call per chunk. The older scheme (every
sentence encoded on its own, chunk vector = their normalized mean) stays selectable with
`ingest.embedding.pooling = "sentences"`; docs/benchmarks.md compares the two.

The stages live next door: collect, plan and build the units in ``ingest.planning``; assemble,
merge and publish in ``ingest.publish``. This module runs them under the writer lock and reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest import planning
from ingest.bm25 import Bm25Params
from ingest.documents import IngestParams
from ingest.embed import Embedder
from ingest.errors import GuidegroundError, UsageError
from ingest.parse.labelled import REVISION as META_REVISION
from ingest.parse.normalize import TEXT_REVISION
from ingest.parse.pdf import REVISION as PDF_REVISION
from ingest.planning import FileReport, collect_files
from ingest.publish import MERGE_REVISION, assemble, publish
from ingest.store import LoadedIndex, current_version, load_version, writer_lock
from ingest.units import fingerprint_hash

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IngestReport:
    index_dir: str
    version: str | None
    previous_version: str | None
    published: bool
    files: list[FileReport]
    n_chunks: int = 0
    n_embedded_chunks: int = 0
    n_embedded_texts: int = 0
    n_reused_chunks: int = 0
    n_boilerplate_sentences: int = 0  # sentences several documents repeat word for word: never quoted (ingest.boilerplate)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["exit_code"] = self.exit_code
        d["n_failed"] = len(self.failed)
        return d


def _params_fingerprint(params: IngestParams, embedder: Embedder) -> dict[str, Any]:
    emb: dict[str, Any] = {"model_id": embedder.model_id, "dim": embedder.dim}
    backend = getattr(embedder, "backend", "torch")
    if backend != "torch":  # torch indexes keep the fingerprint they had before backends existed
        emb["backend"] = backend
        # int8 activations are quantized per call: the batch a text is encoded in moves its vector
        emb["batch"] = getattr(getattr(embedder, "params", None), "onnx_batch_size", params.embedding.onnx_batch_size)
    return {
        "chunking": params.chunking.model_dump(),
        "embedder": emb,
        "bm25": Bm25Params().model_dump(),
        "pdf_parser": params.pdf_parser if params.pdf_parser != "pymupdf" else f"pymupdf-r{PDF_REVISION}",
        "text": f"normalize-r{TEXT_REVISION}",
        "meta": f"labelled-r{META_REVISION}",
        "dense": {"late": "late-chunking-v1", "sentences": "mean(sentences)+context-v1"}[params.embedding.pooling],
    }


def run_ingest(
    paths: list[Path],
    index_root: Path,
    params: IngestParams,
    embedder: Embedder,
    progress: Progress | None = None,
    engine: Any = None,
) -> IngestReport:
    """Ingest files into a new version of the index at ``index_root``; ``engine`` defaults to ``params.engine``."""
    from ingest.engines import get_engine

    t_start = time.perf_counter()
    index_root = Path(index_root)
    files = collect_files(paths, params.sidecar)
    if not files:
        raise UsageError("no guideline files found", hint="pass files or folders with .pdf/.html/.docx/.md/.txt files")
    engine = engine or get_engine(params.engine, params.ray_address)
    with writer_lock(index_root):
        return _run_locked(files, index_root, params, embedder, progress, t_start, engine)


def _previous(index_root: Path, fingerprint: dict[str, Any]) -> tuple[str | None, LoadedIndex | None, dict[str, Any]]:
    prev_version = current_version(index_root)
    prev = None
    if prev_version:
        try:
            prev = load_version(index_root, prev_version)
        except GuidegroundError:
            prev = None  # unreadable previous version: rebuild everything
    prev_files: dict[str, Any] = {}
    if prev is not None and prev.manifest.get("fingerprint") == fingerprint:
        prev_files = prev.manifest.get("files", {})
    return prev_version, prev, prev_files


def _run_locked(files, index_root: Path, params: IngestParams, embedder: Embedder, progress, t_start, engine) -> IngestReport:
    timings: dict[str, float] = {}
    fingerprint = _params_fingerprint(params, embedder)
    prev_version, prev, prev_files = _previous(index_root, fingerprint)

    t = time.perf_counter()
    plan = planning.plan(files, index_root, params, fingerprint_hash(fingerprint), prev, prev_files)
    timings["plan_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n_texts = planning.build(plan, index_root, params, embedder, engine, progress)
    timings["units_s"] = time.perf_counter() - t
    built = {task.key for task in plan.tasks}
    kept = assemble(plan, files, prev, prev_files)
    report = IngestReport(str(index_root), None, prev_version, False, plan.reports)
    n_chunks = sum(len(u.chunks) for _, u in kept)
    changed = (
        prev is None
        or prev.manifest.get("merge_revision") != MERGE_REVISION  # published before the merge derived what it does now
        or any(r.status == "removed" for r in plan.reports)
        or any(u.key not in plan.unchanged for _, u in kept)
    )
    if n_chunks == 0 or (prev is not None and not changed and n_chunks == len(prev.chunks)):
        if n_chunks:
            report.version, report.n_chunks, report.n_reused_chunks = prev_version, n_chunks, n_chunks
        report.timings_s = {k: round(v, 3) for k, v in timings.items()}
        return report

    t = time.perf_counter()
    version, report.n_boilerplate_sentences = publish(index_root, kept, fingerprint, prev_version, params, embedder.dim)
    timings["publish_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start
    report.version, report.published = version, True
    report.n_chunks = n_chunks
    report.n_embedded_chunks = sum(len(u.chunks) for _, u in kept if u.key in built)
    report.n_embedded_texts = n_texts
    report.n_reused_chunks = n_chunks - report.n_embedded_chunks
    report.timings_s = {k: round(v, 3) for k, v in timings.items()}
    return report
