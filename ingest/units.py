"""Per-file work units: parse → chunk → flag (``prepare_unit``), embed (``embed_units``), artefacts.

A unit is one source file. Its artefact (chunks, chunk vectors, sentence vectors, manifest entry)
depends only on the file's bytes, its sidecar row, its name and the pipeline fingerprint, so it is
stored under the hash of those (``unit_key``) and reused by any later ingest into the same index
root, whichever version or path the file had before. Engines (in-process, Ray) run these
functions; the pipeline only decides what to build and merges the results.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ingest.chunk import chunk_document
from ingest.documents import Chunk, IngestParams
from ingest.embed import Embedder, SpanEmbedder
from ingest.errors import GuidegroundError, UsageError
from ingest.injection import is_instruction_like
from ingest.parse import parse_document
from ingest.sniff import Sniffed


def fingerprint_hash(fingerprint: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]


def unit_key(sha: str, name: str, row: dict[str, str] | None, fp_hash: str) -> str:
    """Everything a unit's artefact depends on: bytes, file name (doc_id default), sidecar row, pipeline."""
    h = hashlib.sha256()
    for part in (sha, name, json.dumps(row, sort_keys=True), fp_hash):
        h.update(part.encode())
        h.update(b"\x1f")
    return h.hexdigest()[:32]


@dataclass
class UnitTask:
    """One file to build; carries its bytes so a remote worker needs no shared filesystem."""

    key: str
    sniffed: Sniffed
    row: dict[str, str] | None
    sha: str


@dataclass
class UnitResult:
    key: str
    path: str
    ok: bool
    chunks: list[Chunk] = field(default_factory=list)
    entry: dict[str, Any] = field(default_factory=dict)  # the file's manifest entry
    vectors: np.ndarray | None = None  # (n_chunks, dim)
    sentences: np.ndarray | None = None  # (n_sentences, dim)
    rows: np.ndarray | None = None  # (n_chunks + 1,) sentence offsets
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None
    hint: str | None = None
    seconds: float = 0.0

    @property
    def doc_id(self) -> str | None:
        return self.entry.get("doc_id")


def prepare_unit(task: UnitTask, params: IngestParams) -> UnitResult:
    """Parse and chunk one file; a bad file becomes a failed result, never an exception."""
    t0 = time.perf_counter()
    sn = task.sniffed
    res = UnitResult(key=task.key, path=str(sn.path), ok=False)
    try:
        doc = parse_document(sn, task.row, params)
        chunks = chunk_document(doc, params.chunking)
        if not chunks:
            raise UsageError("no text to index after parsing")
        for c in chunks:
            if is_instruction_like(c.text):
                c.flags.append("instruction_like")
        flagged = sum("instruction_like" in c.flags for c in chunks)
        if flagged:
            doc.warnings.append(f"{flagged} chunk(s) contain instruction-like text: kept as data, never cited")
        res.ok, res.chunks, res.warnings = True, chunks, doc.warnings
        res.entry = {
            "sha256": task.sha,
            "doc_id": doc.meta.doc_id,
            "file": sn.path.name,
            "format": sn.format,
            "bytes": len(sn.data),
            "meta": asdict(doc.meta),
            "sidecar_row": task.row,
            "chunk_ids": [c.chunk_id for c in chunks],
            "unit": task.key,
        }
    except GuidegroundError as exc:
        res.reason, res.hint = exc.message, exc.hint
    except Exception as exc:  # a parser bug must not sink the batch
        res.reason = f"unexpected {type(exc).__name__}: {exc}"
    res.seconds = time.perf_counter() - t0
    return res


def embed_units(units: list[UnitResult], embedder: Embedder, pooling: str, progress=None) -> int:
    """Encode the chunks of several prepared units in one length-sorted pass; fill in their vectors.

    Returns the number of texts the encoder was given (one per chunk with late chunking, plus
    sentences cut off by truncation).
    """
    from ingest.dense import embed_chunks, embed_chunks_late

    ok = [u for u in units if u.ok]
    chunks = [c for u in ok for c in u.chunks]
    if not chunks:
        return 0
    t0 = time.perf_counter()
    if pooling == "late" and isinstance(embedder, SpanEmbedder):
        vecs, sents, n_texts = embed_chunks_late(chunks, embedder, progress)
    else:
        vecs, sents, n_texts = embed_chunks(chunks, embedder, progress)
    spent = (time.perf_counter() - t0) / len(chunks)
    for u in ok:
        u.vectors = np.stack([vecs[c.chunk_id] for c in u.chunks]).astype(np.float32)
        blocks = [sents[c.chunk_id] for c in u.chunks]
        u.sentences = np.concatenate(blocks).astype(np.float32)
        u.rows = np.concatenate([[0], np.cumsum([b.shape[0] for b in blocks])]).astype(np.int64)
        u.seconds += spent * len(u.chunks)
    return n_texts
