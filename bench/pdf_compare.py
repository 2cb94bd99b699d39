"""Compare unstructured's PDF partitioning (strategy="fast") with the PyMuPDF layer on the CDC PDFs.

unstructured's PDF path needs extra packages that the project does not install (unstructured-inference
pulls timm/torchvision). Install them beside the project, without dependencies, then run:

    .venv/bin/pip install --target /tmp/pdfextra --no-deps unstructured-inference "pdfminer.six>=20251230" \
        "pypdf<7" pikepdf pi-heif pdf2image opencv-python-headless pypdfium2 rapidfuzz onnx unstructured.pytesseract
    PYTHONPATH=/tmp/pdfextra .venv/bin/python bench/pdf_compare.py [--shared DIR]

Measures per parser: wall time, pages/s, heading count, whether 'Recommendation 1..12' come out as
headings, running-header lines left in the text, and reading order on a two-column page
(does a left-column paragraph's continuation follow it?).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RUNNING = [r"US Department of Health and Human Services/Centers for Disease Control and Prevention", r"MMWR\s*/\s*\w+ \d+, \d{4}\s*/\s*Vol\. \d+"]


def running_lines(texts: list[str]) -> int:
    return sum(1 for t in texts for rx in RUNNING if re.search(rx, t))


def via_unstructured(path: Path) -> dict:
    import ingest.parse.unstructured_parser as up

    up._ensure_offline_patch()
    from unstructured.partition.pdf import partition_pdf

    t = time.perf_counter()
    els = partition_pdf(filename=str(path), strategy="fast")
    dt = time.perf_counter() - t
    texts = [e.text for e in els if e.text]
    titles = [e.text.strip() for e in els if e.category == "Title"]
    recs = {int(m.group(1)) for t in titles if (m := re.fullmatch(r"Recommendation (\d+)", t))}
    pages = Counter(e.metadata.page_number for e in els)
    return {"seconds": round(dt, 2), "elements": len(els), "titles": len(titles), "recommendation_headings": sorted(recs),
            "running_header_lines_left": running_lines(texts), "pages_seen": len(pages), "text": "\n".join(texts)}


def via_pymupdf(path: Path) -> dict:
    from ingest.parse.pdf import parse_pdf

    t = time.perf_counter()
    blocks, _, _ = parse_pdf(path.read_bytes())
    dt = time.perf_counter() - t
    heads = [b.text for b in blocks if b.kind == "heading"]
    recs = {int(m.group(1)) for t in heads if (m := re.fullmatch(r"Recommendation (\d+)", t))}
    texts = [b.text for b in blocks]
    return {"seconds": round(dt, 2), "elements": len(blocks), "titles": len(heads), "recommendation_headings": sorted(recs),
            "running_header_lines_left": running_lines(texts), "pages_seen": len({b.page for b in blocks}), "text": "\n".join(texts)}


def order_probe(text: str, a: str, b: str) -> bool:
    """True if phrase b follows phrase a within 600 characters (same paragraph kept together)."""
    i = text.find(a)
    return i >= 0 and 0 <= text.find(b, i) - i < 600


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    import pymupdf

    out = {}
    for name in ("cdc-opioids-2022.pdf", "cdc-ipc-outpatient-2016.pdf"):
        path = args.shared / "guidelines" / name
        pages = pymupdf.open(path).page_count
        row = {}
        for label, fn in (("pymupdf", via_pymupdf), ("unstructured-fast", via_unstructured)):
            try:
                r = fn(path)
            except Exception as exc:  # missing optional packages
                row[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                continue
            text = r.pop("text")
            r["pages_per_s"] = round(pages / r["seconds"], 1) if r["seconds"] else None
            if name.startswith("cdc-opioids"):
                r["reading_order_ok"] = order_probe(text, "Nonopioid therapies are at least as effective as opioids", "Clinicians should maximize use of nonpharmacologic")
            row[label] = r
        out[name] = {"pages": pages, **row}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
