"""Ingest pipeline: collect → sniff → parse → chunk → flag → embed (only what changed) → publish.

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
from ingest.chunk import chunk_document, embedding_text
from ingest.documents import Chunk, IngestParams, sha256_bytes
from ingest.embed import Embedder, SpanEmbedder
from ingest.errors import GuidegroundError, UsageError
from ingest.injection import is_instruction_like
from ingest.parse import parse_document, read_sidecar
from ingest.sniff import is_candidate, sniff
from ingest.store import (
    BuildArtifacts,
    current_version,
    load_version,
    next_version_name,
    write_version,
    writer_lock,
)

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
    return {
        "chunking": params.chunking.model_dump(),
        "embedder": {"model_id": embedder.model_id, "dim": embedder.dim},
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
) -> IngestReport:
    t_start = time.perf_counter()
    index_root = Path(index_root)
    files = collect_files(paths, params.sidecar)
    if not files:
        raise UsageError("no guideline files found", hint="pass files or folders with .pdf/.html/.docx/.md/.txt files")
    with writer_lock(index_root):
        return _run_locked(files, index_root, params, embedder, progress, t_start)


def _run_locked(files, index_root: Path, params: IngestParams, embedder: Embedder, progress, t_start) -> IngestReport:
    timings: dict[str, float] = {}
    fingerprint = _params_fingerprint(params, embedder)
    prev_version = current_version(index_root)
    prev = None
    if prev_version:
        try:
            prev = load_version(index_root, prev_version)
        except GuidegroundError:
            prev = None  # unreadable previous version: rebuild everything
    prev_files: dict[str, dict[str, Any]] = {}
    if prev is not None and prev.manifest.get("fingerprint") == fingerprint:
        prev_files = prev.manifest.get("files", {})

    sidecars: dict[Path, dict[str, dict[str, str]]] = {}
    reports: list[FileReport] = []
    kept: list[tuple[str, list[Chunk], dict[str, Any]]] = []  # (file key, chunks, file manifest entry)
    new_chunks: list[Chunk] = []
    doc_ids: dict[str, str] = {}
    max_bytes = int(params.max_file_mb * 1e6)

    t = time.perf_counter()
    for i, (path, sidecar) in enumerate(files):
        t0 = time.perf_counter()
        key = str(path.resolve())
        rep = FileReport(path=str(path), status="indexed")
        reports.append(rep)
        try:
            if sidecar is not None and sidecar not in sidecars:
                sidecars[sidecar] = read_sidecar(sidecar)
            row = sidecars.get(sidecar, {}).get(path.name) if sidecar else None
            sn = sniff(path, max_bytes)
            sha = sha256_bytes(sn.data)
            old = prev_files.get(key)
            if old and old["sha256"] == sha and old.get("sidecar_row") == row and prev is not None:
                chunks = [prev.chunks[prev.by_id[cid]] for cid in old["chunk_ids"]]
                rep.status, rep.doc_id, rep.chunks = "unchanged", old["doc_id"], len(chunks)
                entry = old
            else:
                doc = parse_document(sn, row, params)
                chunks = chunk_document(doc, params.chunking)
                if not chunks:
                    raise UsageError("no text to index after parsing")
                for c in chunks:
                    if is_instruction_like(c.text):
                        c.flags.append("instruction_like")
                flagged = sum("instruction_like" in c.flags for c in chunks)
                if flagged:
                    doc.warnings.append(f"{flagged} chunk(s) contain instruction-like text: kept as data, never cited")
                rep.doc_id, rep.chunks, rep.warnings = doc.meta.doc_id, len(chunks), doc.warnings
                entry = {
                    "sha256": sha,
                    "doc_id": doc.meta.doc_id,
                    "file": path.name,
                    "format": sn.format,
                    "bytes": len(sn.data),
                    "meta": asdict(doc.meta),
                    "sidecar_row": row,
                    "chunk_ids": [c.chunk_id for c in chunks],
                }
                new_chunks.extend(chunks)
            if entry["doc_id"] in doc_ids:
                raise UsageError(
                    f"duplicate doc_id '{entry['doc_id']}' (also used by {doc_ids[entry['doc_id']]})",
                    hint="give each file its own doc_id in the metadata sidecar",
                )
            doc_ids[entry["doc_id"]] = str(path)
            kept.append((key, chunks, entry))
        except GuidegroundError as exc:
            rep.status, rep.reason, rep.hint = "failed", exc.message, exc.hint
            new_chunks = [c for c in new_chunks if c.doc_id != rep.doc_id] if rep.doc_id else new_chunks
            old = prev_files.get(key)
            if old and prev is not None and old["doc_id"] not in doc_ids:
                # A bad update never erases the last good version of a document.
                chunks = [prev.chunks[prev.by_id[cid]] for cid in old["chunk_ids"]]
                kept.append((key, chunks, old))
                doc_ids[old["doc_id"]] = str(path)
                rep.warnings.append("kept the previously indexed version of this file")
        except Exception as exc:  # a parser bug must not sink the batch
            rep.status, rep.reason = "failed", f"unexpected {type(exc).__name__}: {exc}"
        rep.seconds = round(time.perf_counter() - t0, 3)
        if progress:
            progress("parse", i + 1, len(files))
    timings["parse_s"] = time.perf_counter() - t

    present = {k for k, _, _ in kept}
    for key, old in prev_files.items():
        if key not in present and not any(r.path and str(Path(r.path).resolve()) == key for r in reports):
            reports.append(FileReport(path=key, status="removed", doc_id=old["doc_id"], chunks=len(old["chunk_ids"])))

    all_chunks = [c for _, chunks, _ in kept for c in chunks]
    report = IngestReport(str(index_root), None, prev_version, False, reports)
    if not all_chunks:
        report.timings_s = {k: round(v, 3) for k, v in timings.items()}
        return report
    changed = bool(new_chunks) or any(r.status == "removed" for r in reports) or prev is None
    if prev is not None and not changed and len(all_chunks) == len(prev.chunks):
        report.version, report.n_chunks = prev_version, len(all_chunks)
        report.n_reused_chunks = len(all_chunks)
        report.timings_s = {k: round(v, 3) for k, v in timings.items()}
        return report

    # Embed only new chunks; reuse vectors of unchanged ones.
    t = time.perf_counter()
    new_ids = {c.chunk_id for c in new_chunks}
    to_embed = [c for c in all_chunks if c.chunk_id in new_ids]
    if params.embedding.pooling == "late" and isinstance(embedder, SpanEmbedder):
        vecs_new, sent_new, n_texts = embed_chunks_late(to_embed, embedder, progress)
    else:
        vecs_new, sent_new, n_texts = embed_chunks(to_embed, embedder, progress)
    timings["embed_s"] = time.perf_counter() - t

    t = time.perf_counter()
    dim = embedder.dim
    vectors = np.zeros((len(all_chunks), dim), dtype=np.float32)
    sent_blocks: list[np.ndarray] = []
    rows = np.zeros(len(all_chunks) + 1, dtype=np.int64)
    for i, c in enumerate(all_chunks):
        if c.chunk_id in new_ids:
            vectors[i] = vecs_new[c.chunk_id]
            block = sent_new[c.chunk_id]
        else:
            assert prev is not None
            j = prev.by_id[c.chunk_id]
            vectors[i] = prev.vectors[j]
            block = prev.sentence_block(j)
        sent_blocks.append(block)
        rows[i + 1] = rows[i] + block.shape[0]
    sentence_vectors = np.concatenate(sent_blocks).astype(np.float32) if sent_blocks else np.zeros((0, dim), np.float32)
    bm25 = Bm25Index.build([embedding_text(c) for c in all_chunks], Bm25Params())
    files_manifest = {k: e for k, _, e in kept}
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
    )
    timings["publish_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start
    report.version, report.published = version, True
    report.n_chunks = len(all_chunks)
    report.n_embedded_chunks = len(to_embed)
    report.n_embedded_texts = n_texts
    report.n_reused_chunks = len(all_chunks) - len(to_embed)
    report.timings_s = {k: round(v, 3) for k, v in timings.items()}
    return report


def chunk_sentence_texts(c: Chunk) -> list[str]:
    return [c.text[s.start : s.end] for s in c.sentences] or [c.text]


def context_text(c: Chunk) -> str:
    return embedding_text(c).split("\n", 1)[0]


def embed_chunks_late(
    chunks: list[Chunk], embedder: SpanEmbedder, progress: Progress | None = None, batch: int = 256
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """One encoder pass per chunk over its embedding text; sentence vectors pooled from its tokens.

    Sentences cut off by the encoder's truncation are encoded on their own (rare: chunks are sized
    to the token budget). Returns chunk vectors, sentence blocks and the number of texts encoded.
    """
    texts = [embedding_text(c) for c in chunks]
    spans: list[list[tuple[int, int]]] = []
    for c, t in zip(chunks, texts, strict=True):
        off = len(t) - len(c.text)
        spans.append([(off + s.start, off + s.end) for s in c.sentences] or [(off, off + len(c.text))])
    order = sorted(range(len(texts)), key=lambda k: -len(texts[k]))  # similar lengths batch together
    vec_by_id: dict[str, np.ndarray] = {}
    sent_by_id: dict[str, np.ndarray] = {}
    missing: list[tuple[str, int, str]] = []
    for b in range(0, len(order), batch):
        idx = order[b : b + batch]
        vecs, blocks = embedder.embed_spans([texts[k] for k in idx], [spans[k] for k in idx])
        for k, v, block in zip(idx, vecs, blocks, strict=True):
            c = chunks[k]
            vec_by_id[c.chunk_id] = v
            sent_by_id[c.chunk_id] = block
            for si in map(int, np.flatnonzero(~block.any(axis=1))):
                a, z = spans[k][si]
                missing.append((c.chunk_id, si, texts[k][a:z]))
        if progress:
            progress("embed", min(b + batch, len(order)), len(order))
    if missing:
        fallback = embedder.embed([m[2] for m in missing])
        for (cid, si, _), v in zip(missing, fallback, strict=True):
            sent_by_id[cid][si] = v
    return vec_by_id, sent_by_id, len(texts) + len(missing)


def embed_chunks(
    chunks: list[Chunk], embedder: Embedder, progress: Progress | None = None, batch: int = 256
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Encode each chunk's sentences and its context once; chunk vector = normalized mean."""
    texts: list[str] = []
    owners: list[int] = []
    ctx_index: dict[str, int] = {}
    ctx_of: list[int] = []
    for i, c in enumerate(chunks):
        for s in chunk_sentence_texts(c):
            texts.append(s)
            owners.append(i)
        ctx = context_text(c)
        if ctx not in ctx_index:
            ctx_index[ctx] = len(ctx_index)
        ctx_of.append(ctx_index[ctx])
    ctx_texts = list(ctx_index)
    all_texts = texts + ctx_texts
    out = np.zeros((len(all_texts), embedder.dim), dtype=np.float32)
    # Encode longest-first batches of similar length (padding waste is the main cost on CPU).
    order = sorted(range(len(all_texts)), key=lambda k: -len(all_texts[k]))
    for b in range(0, len(order), batch):
        idx = order[b : b + batch]
        out[idx] = embedder.embed([all_texts[k] for k in idx])
        if progress:
            progress("embed", min(b + batch, len(order)), len(order))
    sent = out[: len(texts)]
    ctx_vecs = out[len(texts) :]
    vec_by_id: dict[str, np.ndarray] = {}
    sent_by_id: dict[str, np.ndarray] = {}
    owners_arr = np.asarray(owners, dtype=np.int64)
    bounds = np.searchsorted(owners_arr, np.arange(len(chunks) + 1))
    for i, c in enumerate(chunks):
        block = sent[bounds[i] : bounds[i + 1]]
        v = block.sum(axis=0) + ctx_vecs[ctx_of[i]]
        v /= max(float(np.linalg.norm(v)), 1e-12)
        vec_by_id[c.chunk_id] = v
        sent_by_id[c.chunk_id] = block
    return vec_by_id, sent_by_id, len(all_texts)
