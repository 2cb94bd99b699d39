"""Encoder throughput by batch size, through the embedder as ingest calls it (late chunking spans).

    .venv/bin/python bench/onnx_batch.py [--shared ../shared/data] [--chunks 800] [--sizes 1,4,8,32]
                                         [--backends onnx-int8,onnx,torch] [--threads N] [--rounds 3] [--json OUT]

Chunk texts: the embedding texts (title, headings, chunk) of every 7th shared guideline, parsed and
chunked as ingest does (the repo's demo guidelines when ../shared is missing), longest first as
`ingest.dense.embed_chunks_late` hands them over. Sentences: the same chunks' sentences, through
`embed`. For each backend and batch size the best of ``--rounds`` passes, interleaved so machine load
hits every setting alike. ``onnx_batch_size`` (ONNX) or ``batch_size`` (torch) is the knob timed;
``--threads 1`` times the one-thread encoders the local engine's worker processes run (one per core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def sample_chunks(shared: Path, n: int):
    from ingest.documents import IngestParams, sha256_bytes
    from ingest.sniff import is_candidate, sniff
    from ingest.units import UnitTask, prepare_unit

    folder = shared / "guidelines" if (shared / "guidelines").is_dir() else REPO / "guidelines"
    files = [f for f in sorted(folder.rglob("*")) if f.is_file() and is_candidate(f, "guidelines.manifest.csv")]
    chunks = []
    for f in files[::7] if len(files) > 20 else files:
        sn = sniff(f, 10**9)
        u = prepare_unit(UnitTask(key="bench", sniffed=sn, row=None, sha=sha256_bytes(sn.data)), IngestParams())
        chunks += u.chunks if u.ok else []
        if len(chunks) >= n:
            break
    return chunks[:n], str(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--chunks", type=int, default=800)
    ap.add_argument("--sizes", default="1,4,8,32")
    ap.add_argument("--backends", default="onnx-int8,torch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="encoder threads (default: all cores)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from ingest.chunk import embedding_text
    from ingest.dense import chunk_sentence_texts
    from ingest.documents import EmbeddingParams
    from ingest.embed import SentenceTransformerEmbedder
    from ingest.embed_onnx import OnnxEmbedder

    chunks, source = sample_chunks(args.shared, args.chunks)
    texts = sorted((embedding_text(c) for c in chunks), key=len, reverse=True)
    sents = [s for c in chunks for s in chunk_sentence_texts(c)]
    spans = [[(0, len(t))] for t in texts]
    sizes = [int(x) for x in args.sizes.split(",")]
    embedders = {}
    for be in args.backends.split(","):
        for bs in sizes:
            p = EmbeddingParams(backend=be, batch_size=bs, onnx_batch_size=bs, threads=args.threads)
            embedders[(be, bs)] = SentenceTransformerEmbedder(p) if be == "torch" else OnnxEmbedder(p)
    best: dict[tuple[str, int], dict[str, float]] = {}
    for e in embedders.values():  # warm up every session once
        e.embed_spans(texts[:8], spans[:8])
    for _ in range(args.rounds):
        for key, e in embedders.items():
            t = time.perf_counter()
            e.embed_spans(texts, spans)
            chunk_rate = len(texts) / (time.perf_counter() - t)
            t = time.perf_counter()
            e.embed(sents)
            sent_rate = len(sents) / (time.perf_counter() - t)
            b = best.setdefault(key, {"chunks_per_s": 0.0, "sentences_per_s": 0.0})
            b["chunks_per_s"] = round(max(b["chunks_per_s"], chunk_rate), 1)
            b["sentences_per_s"] = round(max(b["sentences_per_s"], sent_rate), 1)
            print(key, b, flush=True)
    out = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load avg {os.getloadavg()[0]:.1f} at end",
        "source": source,
        "threads": args.threads or "all cores",
        "n_chunks": len(texts),
        "n_sentences": len(sents),
        "mean_chunk_chars": round(sum(map(len, texts)) / max(len(texts), 1)),
        "results": [{"backend": be, "batch": bs, **v} for (be, bs), v in best.items()],
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
