"""What curation adds to every query: recording the Answer (with its release lookup) and checking an API key.

    .venv/bin/python bench/curation_bench.py [--n 300] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Prints p50 / p95 in ms per operation and backend (SQLite file in a temp dir; PostgreSQL in a temporary
schema, dropped afterwards) as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from app.curation.roles import cli_actor
from app.curation.service import CurationService
from app.query.schemas import AnswerSentence, Citation, QueryResponse
from app.settings import Settings


def response() -> QueryResponse:
    cits = [Citation(n=i, chunk_id=f"doc:{i:04d}", doc_id="doc", title="Title", issuer="Issuer", version="2026.1",
                     section_path=["A", "B"], page=3, start=0, end=120, quote="x" * 120, score=0.5) for i in (1, 2, 3)]
    sents = [AnswerSentence(text="A sentence quoted from a guideline, about 120 characters long " * 2, citations=[i]) for i in (1, 2, 3)]
    return QueryResponse(status="answered", answer=" ".join(s.text for s in sents), sentences=sents, citations=cits, index_version="v0001-x")


def timed(fn, n: int) -> dict[str, float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return {"p50_ms": round(statistics.median(out), 3), "p95_ms": round(out[int(0.95 * (n - 1))], 3)}


def run(url: str, n: int, work: Path) -> dict[str, dict[str, float]]:
    s = Settings(database={"url": url}, curation={"registry_dir": str(work / "r"), "build_dir": str(work / "b"), "feedback_dir": str(work / "f")})
    svc = CurationService(s)
    try:
        key = svc.create_key(cli_actor(), "bench", "reader")["key"]
        resp = response()
        question = "patient Jane Doe, MRN 1234567: at what age should colorectal cancer screening start?"
        return {
            "record_answer": timed(lambda: svc.record_answer(question, resp, "req"), n),
            "authenticate": timed(lambda: svc.authenticate(key), n),
        }
    finally:
        svc.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    a = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/bench.db", a.n, Path(tmp))
        schema = f"gg_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(a.pg)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            results["postgresql"] = run(f"{a.pg}?options=-csearch_path%3D{schema}", a.n, Path(tmp))
        finally:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print(json.dumps({"n": a.n, **results}, indent=2))


if __name__ == "__main__":
    main()
