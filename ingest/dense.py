"""Dense vectors for chunks: late chunking (one encoder pass per chunk) or the mean-of-sentences scheme.

See ``ingest.pipeline`` for the two schemes; both return chunk vectors and per-chunk sentence blocks
keyed by chunk id, and the number of texts the encoder was given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ingest.chunk import embedding_text
from ingest.documents import Chunk
from ingest.embed import Embedder, SpanEmbedder

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
