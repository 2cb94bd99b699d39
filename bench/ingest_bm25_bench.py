"""BM25 rebuild cost at scale: tokenize / index / save / load / query, and peak memory, per corpus size.

    .venv/bin/python bench/ingest_bm25_bench.py --index DIR [--sizes 100000,1000000] [--json OUT]

bm25s has no incremental add: its index is a sparse matrix of precomputed per-(document, term)
scores that depend on the corpus-wide IDF and mean length, so every publish rebuilds it. This
measures what that costs. Texts are the real index's chunk embedding texts, repeated to the size
(BM25 cost depends on token counts, not on uniqueness). Each size runs in a fresh subprocess so its
peak RSS (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def one(index: Path, size: int) -> dict:
    import bm25s
    import numpy as np

    from ingest.bm25 import Bm25Index, Bm25Params, _stemmer
    from ingest.chunk import embedding_text
    from ingest.store import load_version

    base = [embedding_text(c) for c in load_version(index).chunks]
    texts = (base * (size // len(base) + 1))[:size]
    p = Bm25Params()
    t = time.perf_counter()
    tokens = bm25s.tokenize(texts, lower=p.lower, token_pattern=p.token_pattern, stopwords=p.stopwords,
                            stemmer=_stemmer(p.stemmer), show_progress=False)
    tok_s = time.perf_counter() - t
    t = time.perf_counter()
    retriever = bm25s.BM25(method=p.method, k1=p.k1, b=p.b)
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - t
    bm = Bm25Index(retriever, p)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        bm.save(Path(tmp) / "bm25")
        save_s = time.perf_counter() - t
        disk = sum(f.stat().st_size for f in (Path(tmp) / "bm25").rglob("*") if f.is_file())
        t = time.perf_counter()
        bm = Bm25Index.load(Path(tmp) / "bm25")
        load_s = time.perf_counter() - t
    qs = ["colorectal cancer screening age", "aspirin dose preeclampsia", "lung cancer screening stop smoking years",
          "hypertension blood pressure target adults", "influenza vaccine pregnancy"] * 4
    lat = []
    for q in qs:
        t = time.perf_counter()
        bm.search(q, 50)
        lat.append((time.perf_counter() - t) * 1000)
    return {"n": size, "tokenize_s": round(tok_s, 1), "index_s": round(index_s, 1), "save_s": round(save_s, 1),
            "load_s": round(load_s, 1), "disk_mb": round(disk / 2**20, 1), "query_p50_ms": round(float(np.median(lat)), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.index, args.one)))
        return
    rows = []
    for size in map(int, args.sizes.split(",")):
        proc = subprocess.run([sys.executable, __file__, "--index", str(args.index), "--one", str(size)],
                              capture_output=True, text=True, cwd=REPO)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    out = {"command": "python " + " ".join(sys.argv),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f} at end", "rows": rows}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
