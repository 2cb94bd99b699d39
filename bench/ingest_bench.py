"""Ingest benchmark: end-to-end chunks/s vs the raw encoder on the same chunk texts, PDF pages/s.

    .venv/bin/python bench/ingest_bench.py [--shared DIR] [--files N] [--repeats R] [--json OUT]

Both measurements run in one process, one after the other, per repeat; medians are reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--files", type=int, default=40, help="HTML/MD/DOCX files (0 = all)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from ingest.chunk import embedding_text
    from ingest.documents import IngestParams
    from ingest.embed import get_embedder
    from ingest.pipeline import run_ingest
    from ingest.store import load_version

    src_all = sorted(p for p in (args.shared / "guidelines").iterdir() if p.suffix in (".html", ".md", ".docx"))
    # Take every format: interleave by extension so a subset still has all three.
    by_ext: dict[str, list[Path]] = {}
    for p in src_all:
        by_ext.setdefault(p.suffix, []).append(p)
    mixed: list[Path] = []
    while any(by_ext.values()):
        for ext in sorted(by_ext):
            if by_ext[ext]:
                mixed.append(by_ext[ext].pop(0))
    files = mixed[: args.files] if args.files else mixed
    sidecar = args.shared / "guidelines.manifest.csv"
    emb = get_embedder()
    emb.embed(["warm up the encoder"] * 8)
    params = IngestParams()
    e2e, raw, rows = [], [], []
    for rep in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "guidelines"
            folder.mkdir()
            for f in files:
                (folder / f.name).symlink_to(f)
            (Path(tmp) / "guidelines.manifest.csv").symlink_to(sidecar)
            t = time.perf_counter()
            report = run_ingest([folder], Path(tmp) / "index", params, emb)
            wall = time.perf_counter() - t
            idx = load_version(Path(tmp) / "index")
            texts = [embedding_text(c) for c in idx.chunks]
            # The raw encoder at its best: one call, so sentence-transformers sorts every text by
            # length before batching (less padding than any chunk-order batching).
            t = time.perf_counter()
            emb.embed(texts)
            enc = time.perf_counter() - t
        n = report.n_chunks
        e2e.append(n / wall)
        raw.append(n / enc)
        rows.append({"repeat": rep, "chunks": n, "e2e_s": round(wall, 2), "raw_encode_s": round(enc, 2), **report.timings_s})
        print(f"repeat {rep}: {n} chunks, end-to-end {n / wall:.1f} chunks/s, raw encoder {n / enc:.1f} chunks/s, ratio {(n / wall) / (n / enc):.2f}", flush=True)

    # PDF parse speed (PyMuPDF layer, the production default).
    from ingest.parse import parse_document
    from ingest.sniff import sniff

    pdf_rows = []
    for pdf in sorted((args.shared / "guidelines").glob("*.pdf")):
        import pymupdf

        pages = pymupdf.open(pdf).page_count
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            parse_document(sniff(pdf, 10**9), None, params)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        pdf_rows.append({"file": pdf.name, "pages": pages, "median_s": round(med, 3), "pages_per_s": round(pages / med, 1)})
        print(f"{pdf.name}: {pages} pages, {pages / med:.1f} pages/s (PyMuPDF layer)", flush=True)

    result = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, {platform.python_version()}",
        "files": len(files),
        "median_e2e_chunks_per_s": round(statistics.median(e2e), 1),
        "median_raw_encoder_chunks_per_s": round(statistics.median(raw), 1),
        "median_ratio": round(statistics.median([a / b for a, b in zip(e2e, raw, strict=True)]), 3),
        "repeats": rows,
        "pdf": pdf_rows,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "repeats"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
