"""Full-corpus ingest side by side: guideground (torch, onnx-int8) vs a plain llama-index pipeline.

    .venv/bin/python bench/ingest_compare.py [--shared DIR] [--out /tmp/ingest-compare] [--backends torch,onnx-int8]
                                             [--baseline d6cb50e] [--repeats 1] [--json OUT]

Each guideground run is `guideground ingest <shared>/guidelines --index <fresh dir>` in a subprocess
(wall time from process start to exit: model load, parse, embed, publish), with
GUIDEGROUND_INGEST__EMBEDDING__BACKEND set. The llama-index run (also a fresh subprocess):
SimpleDirectoryReader → SentenceSplitter() defaults → the same packaged MiniLM weights
(sentence-transformers, torch) → FAISS IndexFlatIP. Evidence recall@5 on
evalsets/guideline_questions.jsonl: share of answerable questions whose gold evidence (whitespace
collapsed) lies inside one of the 5 top-ranked chunks (guideground: the hybrid retriever as served;
llama-index: FAISS top 5). The ONNX models are exported before timing (a one-time cost, reported).
``--baseline REV`` also times that commit's own ``guideground ingest`` (a git worktree of REV run with
this virtualenv, default settings), so "N× faster than REV" is measured side by side, not against a
number from another day's machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
QUESTIONS = REPO / "evalsets" / "guideline_questions.jsonl"


DOCS: set[str] | None = None  # with --subset: the doc ids indexed; questions about others are skipped


def _cases() -> list[dict]:
    cases = [json.loads(x) for x in QUESTIONS.read_text().splitlines() if x.strip()]
    cases = [c for c in cases if c.get("expected") == "answer" and c.get("gold_evidence")]
    return [c for c in cases if DOCS is None or set(c["gold_doc_ids"]) <= DOCS]


def make_subset(shared: Path, k: int, out: Path) -> Path:
    """The first k (sorted) non-PDF gold documents of the guideline questions, with their sidecar rows."""
    import csv

    global DOCS
    cases = [json.loads(x) for x in QUESTIONS.read_text().splitlines() if x.strip()]
    gold = sorted({d for c in cases if c.get("expected") == "answer" and c.get("gold_evidence") for d in c["gold_doc_ids"]})
    with open(shared / "guidelines.manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["doc_id"]: r for r in rows}
    chosen = [d for d in gold if d in by_id and not by_id[d]["file"].endswith(".pdf")][:k]
    DOCS = set(chosen)
    src = out / "subset" / "guidelines"
    shutil.rmtree(out / "subset", ignore_errors=True)
    src.mkdir(parents=True)
    for d in chosen:
        shutil.copy(shared / "guidelines" / by_id[d]["file"], src / by_id[d]["file"])
    with open(out / "subset" / "guidelines.manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(by_id[d] for d in chosen)
    return src


def _hit(gold: str, texts: list[str]) -> bool:
    g = " ".join(gold.split())
    return any(g in " ".join(t.split()) for t in texts)


def guideground_recall(index: Path, backend: str) -> float:
    from app.query.retrieve import HybridRetriever
    from app.settings import Settings
    from ingest.documents import EmbeddingParams
    from ingest.embed import get_embedder
    from ingest.store import load_version

    r = Settings().retrieval
    idx = load_version(index)
    emb = get_embedder(EmbeddingParams(backend=backend))
    ret = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, "hybrid", r.near_duplicate_threshold, r.bm25_weight)
    cases = _cases()
    vecs = emb.embed([c["question"] for c in cases])
    hits = 0
    for c, v in zip(cases, vecs, strict=True):
        res = ret.retrieve(idx, v, c["question"], 5, None)
        hits += _hit(c["gold_evidence"], [idx.chunks[x.row].text for x in res.candidates[:5]])
    return hits / len(cases)


def baseline_checkout(rev: str, out: Path) -> Path:
    """A detached git worktree of ``rev`` under ``out`` (re-used when it is already at that commit)."""
    wt = out / f"baseline-{rev}"
    want = subprocess.run(["git", "rev-parse", rev], capture_output=True, text=True, cwd=REPO, check=True).stdout.strip()
    if wt.is_dir():
        have = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=wt).stdout.strip()
        if have == want:
            return wt
        subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=REPO, check=False)
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "worktree", "add", "--force", "--detach", str(wt), want], cwd=REPO, check=True, capture_output=True)
    return wt


def _recall_or_none(idx: Path, backend: str) -> float | None:
    try:
        return round(guideground_recall(idx, backend), 3)
    except Exception as exc:  # an older commit's index format this code cannot read
        print(f"  (no recall for {idx.name}: {type(exc).__name__}: {exc})", file=sys.stderr)
        return None


def llamaindex_run(src: Path) -> dict:
    """The plain pipeline, timed in this (fresh) process from imports to a searchable FAISS index."""
    t0 = time.perf_counter()
    import faiss
    import numpy as np
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.node_parser import SentenceSplitter
    from sentence_transformers import SentenceTransformer

    from ingest.embed import MINILM_ID, _model_path

    docs = SimpleDirectoryReader(str(src)).load_data()
    nodes = SentenceSplitter().get_nodes_from_documents(docs)
    model = SentenceTransformer(_model_path(MINILM_ID), device="cpu")
    texts = [n.get_content() for n in nodes]
    vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(np.ascontiguousarray(vecs, dtype=np.float32))
    wall = time.perf_counter() - t0
    cases = _cases()
    q = model.encode([c["question"] for c in cases], normalize_embeddings=True, convert_to_numpy=True)
    _, ids = index.search(np.ascontiguousarray(q, dtype=np.float32), 5)
    hits = sum(_hit(c["gold_evidence"], [texts[i] for i in row if i >= 0]) for c, row in zip(cases, ids, strict=True))
    return {"wall_s": round(wall, 1), "n_docs": len(docs), "n_nodes": len(nodes), "evidence_recall_at_5": round(hits / len(cases), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path("/tmp/ingest-compare"))
    ap.add_argument("--backends", default="torch,onnx-int8")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-llamaindex", action="store_true")
    ap.add_argument("--subset", type=int, default=0, help="only the first N non-PDF gold documents of the questions")
    ap.add_argument("--llamaindex-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", help="also time this git revision's own ingest (default settings), e.g. d6cb50e")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    args.out = args.out.resolve()  # the baseline runs in its own worktree: paths must not be relative
    src = make_subset(args.shared, args.subset, args.out) if args.subset else args.shared / "guidelines"
    if args.llamaindex_only:
        print(json.dumps(llamaindex_run(src)))
        return

    from ingest.embed_onnx import ensure_onnx_model

    t = time.perf_counter()
    ensure_onnx_model(True)
    export_s = time.perf_counter() - t
    rows: dict[str, list[dict]] = {}
    variants: list[tuple[str, str, Path]] = [(be, be, REPO) for be in args.backends.split(",")]
    if args.baseline:
        variants.insert(0, (f"baseline@{args.baseline}", "torch", baseline_checkout(args.baseline, args.out)))
    for rep in range(args.repeats):  # interleaved, so load on a shared machine hits every variant alike
        for name, be, code in variants:
            idx = args.out / f"idx-{name.replace('@', '-')}"
            shutil.rmtree(idx, ignore_errors=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDEGROUND_")}
            if code == REPO:
                env["GUIDEGROUND_INGEST__EMBEDDING__BACKEND"] = be
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(src), "--index", str(idx), "--quiet", "--json"],
                                  capture_output=True, text=True, cwd=code, env=env)
            wall = time.perf_counter() - t
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{name}: ingest failed ({proc.returncode}): {proc.stderr[-2000:]}")
            rep_json = json.loads(proc.stdout)
            row = {"repeat": rep, "wall_s": round(wall, 1), "n_chunks": rep_json["n_chunks"], "timings": rep_json["timings_s"],
                   "failed": rep_json["n_failed"], "evidence_recall_at_5": _recall_or_none(idx, be)}
            rows.setdefault(name, []).append(row)
            print(name, row, flush=True)
        if not args.no_llamaindex:
            proc = subprocess.run([sys.executable, __file__, "--shared", str(args.shared), "--llamaindex-only",
                                   "--subset", str(args.subset), "--out", str(args.out / "li")],
                                  capture_output=True, text=True, cwd=REPO)
            row = dict(json.loads(proc.stdout.strip().splitlines()[-1]), repeat=rep)
            rows.setdefault("llamaindex", []).append(row)
            print("llamaindex", row, flush=True)
    out = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load avg {os.getloadavg()[0]:.1f} at end",
        "onnx_export_s": round(export_s, 1),
        "subset_docs": sorted(DOCS) if DOCS else "all",
        "n_questions": len(_cases()),
        "median_wall_s": {k: statistics.median(r["wall_s"] for r in v) for k, v in rows.items()},
        "runs": rows,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
