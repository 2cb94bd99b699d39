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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.bm25 import Bm25Index, Bm25Params
from ingest.chunk import embedding_text
from ingest.dense import chunk_sentence_texts, context_text, embed_chunks, embed_chunks_late  # noqa: F401 (re-exported)
from ingest.documents import Chunk, IngestParams, sha256_bytes
from ingest.embed import Embedder
from ingest.errors import GuidegroundError, UsageError
from ingest.parse import read_sidecar
from ingest.sniff import is_candidate, sniff
from ingest.store import (
    BuildArtifacts,
    LoadedIndex,
    current_version,
    load_version,
    next_version_name,
    write_version,
    writer_lock,
)
from ingest.unit_store import load_unit, prune_units, save_unit
from ingest.units import UnitResult, UnitTask, fingerprint_hash, unit_key

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class FileReport:
    path: str
    status: str  # indexed | unchanged | failed | removed
    doc_id: str | None = None
    chunks: int = 0
    reason: str | None = None
    hint: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False  # built from a stored per-file artefact, not re-parsed or re-embedded


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


def collect_files(paths: Iterable[Path], sidecar_name: str) -> list[tuple[Path, Path | None]]:
    """(file, sidecar) pairs. A folder's sidecar is ``<folder>/<sidecar_name>`` or ``<folder>.manifest.csv``."""
    out: list[tuple[Path, Path | None]] = []
    seen: set[Path] = set()

    def sidecar_for(folder: Path) -> Path | None:
        for cand in (folder / sidecar_name, folder.parent / f"{folder.name}.manifest.csv"):
            if cand.is_file():
                return cand
        return None

    for p in paths:
        p = Path(p)
        if not p.exists():
            raise UsageError(f"no such file or directory: {p}")
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and is_candidate(f, sidecar_name) and f.resolve() not in seen:
                    seen.add(f.resolve())
                    out.append((f, sidecar_for(f.parent)))
        elif p.resolve() not in seen:
            seen.add(p.resolve())
            out.append((p, sidecar_for(p.parent)))
    return out


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
        "pdf_parser": params.pdf_parser,
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


@dataclass
class _Plan:
    """What each file becomes: a reused unit, a task for the engine, or a failure before parsing."""

    reports: list[FileReport]
    keys: list[str | None]  # per file: unit key (None if sniffing failed)
    units: dict[str, UnitResult]  # unit key → finished unit (reused so far; built ones are added)
    tasks: list[UnitTask]
    unchanged: set[str]  # unit keys taken from the previous version as they were


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


def _unit_from_version(prev: LoadedIndex, key: str, path: str, entry: dict[str, Any]) -> UnitResult:
    rows_ix = [prev.by_id[cid] for cid in entry["chunk_ids"]]
    blocks = [prev.sentence_block(j) for j in rows_ix]
    return UnitResult(
        key=key, path=path, ok=True, chunks=[prev.chunks[j] for j in rows_ix], entry=entry,
        vectors=prev.vectors[rows_ix], sentences=np.concatenate(blocks) if blocks else np.zeros((0, prev.dim), np.float32),
        rows=np.concatenate([[0], np.cumsum([b.shape[0] for b in blocks])]).astype(np.int64),
    )


def _plan(files, index_root: Path, params: IngestParams, fp_hash: str, prev, prev_files) -> _Plan:
    """Stage 1: sniff every file and decide, per file, reuse (previous version or artefact) or build."""
    plan = _Plan([], [], {}, [], set())
    sidecars: dict[Path, dict[str, dict[str, str]]] = {}
    max_bytes = int(params.max_file_mb * 1e6)
    for path, sidecar in files:
        rep = FileReport(path=str(path), status="indexed")
        plan.reports.append(rep)
        plan.keys.append(None)
        try:
            if sidecar is not None and sidecar not in sidecars:
                sidecars[sidecar] = read_sidecar(sidecar)
            row = sidecars.get(sidecar, {}).get(path.name) if sidecar else None
            sn = sniff(path, max_bytes)
        except GuidegroundError as exc:
            rep.status, rep.reason, rep.hint = "failed", exc.message, exc.hint
            continue
        except Exception as exc:
            rep.status, rep.reason = "failed", f"unexpected {type(exc).__name__}: {exc}"
            continue
        sha = sha256_bytes(sn.data)
        key = unit_key(sha, path.name, row, fp_hash)
        plan.keys[-1] = key
        if key in plan.units or any(t.key == key for t in plan.tasks):
            continue
        old = prev_files.get(str(path.resolve()))
        if old and prev is not None and old["sha256"] == sha and old.get("sidecar_row") == row:
            plan.units[key] = _unit_from_version(prev, key, str(path), old)
            plan.unchanged.add(key)
        elif (stored := load_unit(index_root, key)) is not None:
            plan.units[key] = stored
            rep.cached = True
        else:
            plan.tasks.append(UnitTask(key=key, sniffed=sn, row=row, sha=sha))
    return plan


def _build(plan: _Plan, index_root: Path, params: IngestParams, embedder: Embedder, engine, progress) -> int:
    """Stage 2: the engine parses, chunks and embeds the tasks; each finished artefact is stored."""
    n_texts = 0
    for batch, texts in engine.run(plan.tasks, params, embedder, progress):
        n_texts += texts
        for u in batch:
            if u.ok:
                save_unit(index_root, u)
            plan.units[u.key] = u
    return n_texts


def _assemble(plan: _Plan, files, prev, prev_files) -> list[tuple[str, UnitResult]]:
    """Stage 3: units in file order; duplicate doc_ids and failures resolved; keeps old good versions."""
    kept: list[tuple[str, UnitResult]] = []
    doc_ids: dict[str, str] = {}
    for (path, _), rep, key in zip(files, plan.reports, plan.keys, strict=True):
        file_key = str(path.resolve())
        u = plan.units.get(key) if key else None
        if u is not None:
            rep.seconds = round(u.seconds, 3)
            if not u.ok:
                rep.status, rep.reason, rep.hint = "failed", u.reason, u.hint
            else:
                rep.doc_id, rep.chunks = u.doc_id, len(u.chunks)
                rep.warnings = list(u.warnings) if key not in plan.unchanged else []
                if key in plan.unchanged:
                    rep.status = "unchanged"
                if u.doc_id in doc_ids:
                    rep.status = "failed"
                    rep.reason = f"duplicate doc_id '{u.doc_id}' (also used by {doc_ids[u.doc_id]})"
                    rep.hint = "give each file its own doc_id in the metadata sidecar"
                else:
                    doc_ids[str(u.doc_id)] = str(path)
                    kept.append((file_key, u))
                    continue
        old = prev_files.get(file_key)
        if rep.status == "failed" and old and prev is not None and old["doc_id"] not in doc_ids:
            # A bad update never erases the last good version of a document.
            kept.append((file_key, _unit_from_version(prev, old.get("unit", ""), str(path), old)))
            doc_ids[old["doc_id"]] = str(path)
            rep.warnings.append("kept the previously indexed version of this file")
    present = {k for k, _ in kept}
    seen = {str(Path(r.path).resolve()) for r in plan.reports}
    for key, old in prev_files.items():
        if key not in present and key not in seen:
            plan.reports.append(FileReport(path=key, status="removed", doc_id=old["doc_id"], chunks=len(old["chunk_ids"])))
    return kept


def _merge(kept: list[tuple[str, UnitResult]], dim: int) -> tuple[list[Chunk], np.ndarray, np.ndarray, np.ndarray]:
    """Stage 4a: concatenate units into the index's row order (chunks, vectors, sentences, offsets)."""
    chunks = [c for _, u in kept for c in u.chunks]
    if not kept:
        return chunks, np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(1, np.int64)
    vectors = np.concatenate([u.vectors for _, u in kept]).astype(np.float32, copy=False)  # type: ignore[misc]
    sentences = np.concatenate([u.sentences for _, u in kept]).astype(np.float32, copy=False)  # type: ignore[misc]
    rows = [np.zeros(1, np.int64)]
    base = 0
    for _, u in kept:
        assert u.rows is not None
        rows.append(u.rows[1:] + base)
        base += int(u.rows[-1])
    return chunks, vectors, sentences, np.concatenate(rows)


def _run_locked(files, index_root: Path, params: IngestParams, embedder: Embedder, progress, t_start, engine) -> IngestReport:
    timings: dict[str, float] = {}
    fingerprint = _params_fingerprint(params, embedder)
    prev_version, prev, prev_files = _previous(index_root, fingerprint)

    t = time.perf_counter()
    plan = _plan(files, index_root, params, fingerprint_hash(fingerprint), prev, prev_files)
    timings["plan_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n_texts = _build(plan, index_root, params, embedder, engine, progress)
    timings["units_s"] = time.perf_counter() - t
    built = {task.key for task in plan.tasks}
    kept = _assemble(plan, files, prev, prev_files)
    report = IngestReport(str(index_root), None, prev_version, False, plan.reports)
    n_chunks = sum(len(u.chunks) for _, u in kept)
    changed = prev is None or any(r.status == "removed" for r in plan.reports) or any(u.key not in plan.unchanged for _, u in kept)
    if n_chunks == 0 or (prev is not None and not changed and n_chunks == len(prev.chunks)):
        if n_chunks:
            report.version, report.n_chunks, report.n_reused_chunks = prev_version, n_chunks, n_chunks
        report.timings_s = {k: round(v, 3) for k, v in timings.items()}
        return report

    t = time.perf_counter()
    version = _publish(index_root, kept, fingerprint, prev_version, params, embedder.dim)
    timings["publish_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start
    report.version, report.published = version, True
    report.n_chunks = n_chunks
    report.n_embedded_chunks = sum(len(u.chunks) for _, u in kept if u.key in built)
    report.n_embedded_texts = n_texts
    report.n_reused_chunks = n_chunks - report.n_embedded_chunks
    report.timings_s = {k: round(v, 3) for k, v in timings.items()}
    return report


def _publish(index_root: Path, kept, fingerprint, prev_version, params: IngestParams, dim: int) -> str:
    """Stage 4b: BM25 over all chunks, the manifest, one atomic version; then prune old artefacts."""
    all_chunks, vectors, sentence_vectors, rows = _merge(kept, dim)
    bm25 = Bm25Index.build([embedding_text(c) for c in all_chunks], Bm25Params())
    files_manifest = {k: u.entry for k, u in kept}
    manifest = {
        "index_kind": "guideground",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fingerprint": fingerprint,
        "embedder": fingerprint["embedder"],
        "chunking": fingerprint["chunking"],
        "bm25": fingerprint["bm25"],
        "files": files_manifest,
        "documents": {e["doc_id"]: dict(e["meta"], n_chunks=len(e["chunk_ids"]), sha256=e["sha256"]) for e in files_manifest.values()},
        "n_sentences": int(rows[-1]),
        "previous_version": prev_version,
    }
    version = next_version_name(index_root)
    write_version(
        index_root,
        version,
        BuildArtifacts(all_chunks, vectors, sentence_vectors, rows, bm25, manifest),
        keep=params.keep_versions,
        ann=params.ann,
    )
    prune_units(index_root, _referenced_units(index_root))
    return version


def _referenced_units(index_root: Path) -> set[str]:
    from ingest.store import list_versions, read_manifest

    refs: set[str] = set()
    for v in list_versions(index_root):
        try:
            files = read_manifest(index_root / "versions" / v).get("files", {})
        except GuidegroundError:
            continue
        refs.update(e["unit"] for e in files.values() if e.get("unit"))
    return refs
