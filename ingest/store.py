"""The on-disk index format: versioned directories, atomic publish, a checked loader.

Layout of an index root::

    CURRENT                      # name of the served version (switched with os.replace)
    versions/<version>/
        manifest.json            # embedder id+dim, chunking params, per-file sha256, metadata, counts
        chunks.jsonl             # row i ↔ vector i ↔ FAISS id i
        vectors.npy              # float32 (n_chunks, dim), L2-normalized; reused by incremental builds
        sentences.npy            # float32 (n_sentences, dim): vectors of every chunk sentence
        sentence_rows.npy        # int32 (n_chunks + 1): sentence offsets per chunk (CSR style)
        index.faiss              # IndexFlatIP over vectors, or HNSW / IVF-SQ8 / IVF-PQ (manifest "ann")
        bm25/                    # bm25s arrays + tokenizer.json (persisted tokenizer/stemmer settings)
    .build-<version>/            # in-progress build; renamed into versions/ only when complete
    .lock                        # flock: one writer at a time

A crash or SIGKILL at any point leaves CURRENT pointing at a complete version.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ingest.bm25 import Bm25Index
from ingest.documents import AnnParams, Chunk
from ingest.errors import IndexCorrupt, IndexLocked, IndexNotFound

FORMAT_VERSION = 1
POINTER = "CURRENT"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fault_point(name: str) -> None:
    """Fault injection for crash tests: GUIDEGROUND_FAULT_SLEEP=<point>:<seconds> pauses here."""
    spec = os.environ.get("GUIDEGROUND_FAULT_SLEEP", "")
    if spec.startswith(name + ":"):
        time.sleep(float(spec.split(":", 1)[1]))


def current_version(root: Path) -> str | None:
    p = root / POINTER
    if not p.is_file():
        return None
    name = p.read_text().strip()
    return name or None


def list_versions(root: Path) -> list[str]:
    vdir = root / "versions"
    if not vdir.is_dir():
        return []
    return sorted(d.name for d in vdir.iterdir() if d.is_dir() and (d / "manifest.json").is_file())


def next_version_name(root: Path) -> str:
    existing = list_versions(root)
    n = 1 + max((int(v[1:5]) for v in existing if v[1:5].isdigit()), default=0)
    return f"v{n:04d}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"


@contextmanager
def writer_lock(root: Path, wait: bool = False) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / ".lock", "a+")
    try:
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fh.fileno(), flags)
        except BlockingIOError:
            raise IndexLocked(
                f"another ingest is writing to {root}", hint="wait for it to finish (the lock is .lock in the index root)"
            ) from None
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


@dataclass
class BuildArtifacts:
    chunks: list[Chunk]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_rows: np.ndarray
    bm25: Bm25Index
    manifest: dict[str, Any]


def write_version(root: Path, version: str, art: BuildArtifacts, keep: int, ann: AnnParams | None = None) -> Path:
    """Write a complete version into a build dir, move it into place, then switch the pointer."""
    import faiss

    from ingest.ann import build_ann

    n = len(art.chunks)
    if art.vectors.shape[0] != n or art.sentence_rows.shape[0] != n + 1:
        raise IndexCorrupt(f"refusing to publish: {n} chunks but {art.vectors.shape[0]} vectors")
    build = root / f".build-{version}"
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)
    with open(build / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c in art.chunks:
            fh.write(c.model_dump_json())
            fh.write("\n")
    np.save(build / "vectors.npy", art.vectors)
    np.save(build / "sentences.npy", art.sentence_vectors)
    np.save(build / "sentence_rows.npy", art.sentence_rows)
    index, ann_info = build_ann(art.vectors, ann)  # flat unless settings or size ask for HNSW / IVF
    faiss.write_index(index, str(build / "index.faiss"))
    art.bm25.save(build / "bm25")
    manifest = dict(art.manifest, version=version, format_version=FORMAT_VERSION, n_chunks=n, ann=ann_info)
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    for f in build.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    (root / "versions").mkdir(exist_ok=True)
    _fault_point("before_publish")
    final = root / "versions" / version
    os.replace(build, final)
    _fsync_dir(root / "versions")
    write_atomic(root / POINTER, (version + "\n").encode())
    prune(root, keep)
    return final


def prune(root: Path, keep: int) -> list[str]:
    cur = current_version(root)
    versions = list_versions(root)
    removed = []
    for v in versions[: max(0, len(versions) - keep)]:
        if v == cur:
            continue
        shutil.rmtree(root / "versions" / v, ignore_errors=True)
        removed.append(v)
    for stale in root.glob(".build-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    return removed


def set_current(root: Path, version: str) -> None:
    """Point CURRENT at an existing version (rollback)."""
    have = list_versions(root)
    if version not in have:
        hint = f"available: {', '.join(have)}" if have else f"none is published there; build one with: guideground ingest guidelines/ --index {root}"
        raise IndexNotFound(f"no version {version} under {root}", hint=hint)
    load_version(root, version)  # verify before switching
    write_atomic(root / POINTER, (version + "\n").encode())


@dataclass
class LoadedIndex:
    """Everything the query side needs from one published version (read-only)."""

    root: Path
    version: str
    manifest: dict[str, Any]
    chunks: list[Chunk]
    faiss_index: Any
    bm25: Bm25Index
    sentence_vectors: np.ndarray
    sentence_rows: np.ndarray
    vectors: np.ndarray
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}

    @property
    def embedder_id(self) -> str:
        return str(self.manifest["embedder"]["model_id"])

    @property
    def dim(self) -> int:
        return int(self.manifest["embedder"]["dim"])

    def sentence_block(self, row: int) -> np.ndarray:
        return self.sentence_vectors[self.sentence_rows[row] : self.sentence_rows[row + 1]]


def read_chunks(path: Path) -> list[Chunk]:
    with open(path, encoding="utf-8") as fh:
        return [Chunk.model_validate_json(line) for line in fh if line.strip()]


def read_manifest(vdir: Path) -> dict[str, Any]:
    try:
        return json.loads((vdir / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"cannot read {vdir / 'manifest.json'}: {exc}") from None


def load_version(root: Path, version: str | None = None, expect_embedder: tuple[str, int] | None = None) -> LoadedIndex:
    import faiss

    root = Path(root)
    version = version or current_version(root)
    if version is None:
        raise IndexNotFound(
            f"no published index under {root}",
            hint="build one with: guideground ingest guidelines/ --index " + str(root),
        )
    vdir = root / "versions" / version
    if not vdir.is_dir():
        raise IndexNotFound(f"index version {version} missing under {root}")
    manifest = read_manifest(vdir)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}; rebuild the index")
    if expect_embedder is not None:
        mid, dim = expect_embedder
        got = (manifest["embedder"]["model_id"], int(manifest["embedder"]["dim"]))
        if got != (mid, dim):
            raise IndexCorrupt(
                f"index was built with embedder {got[0]} (dim {got[1]}) but the service uses {mid} (dim {dim})",
                hint="rebuild the index with the configured embedder",
            )
    try:
        chunks = read_chunks(vdir / "chunks.jsonl")
        index = faiss.read_index(str(vdir / "index.faiss"))
        bm25 = Bm25Index.load(vdir / "bm25")
        # Beside an ANN index the float vectors are only read for re-ranking and exact filters:
        # map them instead of loading (resident memory at millions of chunks).
        mmap: Literal["r"] | None = "r" if manifest.get("ann", {}).get("kind", "flat") != "flat" else None
        sent = np.load(vdir / "sentences.npy", mmap_mode=mmap)
        rows = np.load(vdir / "sentence_rows.npy")
        vectors = np.load(vdir / "vectors.npy", mmap_mode=mmap)
    except Exception as exc:
        raise IndexCorrupt(f"index version {version} is unreadable: {exc}") from None
    n = len(chunks)
    problems = []
    if index.ntotal != n:
        problems.append(f"FAISS has {index.ntotal} rows but chunks.jsonl has {n}")
    if manifest.get("n_chunks") != n:
        problems.append(f"manifest says {manifest.get('n_chunks')} chunks, chunks.jsonl has {n}")
    if bm25.n_docs != n:
        problems.append(f"BM25 has {bm25.n_docs} documents, chunks.jsonl has {n}")
    if rows.shape[0] != n + 1 or (n and int(rows[-1]) != sent.shape[0]):
        problems.append("sentence offsets do not match the sentence vectors")
    if vectors.shape != (n, index.d):
        problems.append(f"vectors.npy has shape {vectors.shape}, expected ({n}, {index.d})")
    if index.d != int(manifest["embedder"]["dim"]):
        problems.append(f"FAISS dim {index.d} != manifest dim {manifest['embedder']['dim']}")
    if problems:
        raise IndexCorrupt(f"index version {version} is inconsistent: " + "; ".join(problems))
    return LoadedIndex(root, version, manifest, chunks, index, bm25, sent, rows, vectors)
