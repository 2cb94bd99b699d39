"""Retrieval quality on MedQuAD: recall@5 and MRR@10 for dense, BM25 and hybrid (RRF), via ranx.

    .venv/bin/python bench/retrieval_bench.py [--index var/calibration/index] [--docs 800] [--questions 2000]

Uses the MedQuAD corpus that `guideground calibrate` builds (documents made of their QA answers)
or builds it; questions are those whose gold document is in the index. Document-level ranking:
distinct doc_ids of the fused chunk ranking, in order.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work-dir", type=Path, default=REPO / "var" / "calibration")
    ap.add_argument("--docs", type=int, default=800)
    ap.add_argument("--heldout", type=int, default=250)
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--tune", action="store_true",
        help="Tune the hybrid's BM25 weight on the questions NOT in the evaluated set (the rest of the shuffle).",
    )
    args = ap.parse_args()

    from ranx import Qrels, Run, evaluate

    from app.eval.cases import load_cases
    from app.eval.datasets import build_medquad
    from app.query.retrieve import HybridRetriever
    from app.settings import Settings
    from ingest.embed import get_embedder
    from ingest.pipeline import run_ingest
    from ingest.store import load_version

    settings = Settings()
    emb = get_embedder()
    corpus, cases_path = build_medquad(args.work_dir / "medquad", args.docs, args.heldout, args.seed, Path(settings.data.shared_dir))
    cases = [c.model_dump() for c in load_cases(cases_path)[0]]  # the one MedQuAD builder (app/eval/datasets)
    index_dir = args.work_dir / "medquad-index"
    run_ingest([corpus], index_dir, settings.ingest, emb)  # no-op when the calibration index is current
    idx = load_version(index_dir)
    cases = [c for c in cases if c["expected"] == "answer"]
    random.Random(args.seed).shuffle(cases)
    tune_cases, cases = cases[args.questions :], cases[: args.questions]
    if args.tune:
        tune(idx, emb, settings, tune_cases)
    qrels = Qrels({f"q{i}": {c["gold_doc_ids"][0]: 1} for i, c in enumerate(cases)})
    vecs = emb.embed([c["question"] for c in cases])
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        r = settings.retrieval
        ret = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, mode, r.near_duplicate_threshold, r.bm25_weight)
        run: dict[str, dict[str, float]] = {}
        t = time.perf_counter()
        for i, c in enumerate(cases):
            res = ret.retrieve(idx, vecs[i], c["question"], 50, None)
            docs: dict[str, float] = {}
            for rank, cand in enumerate(res.candidates):
                d = idx.chunks[cand.row].doc_id
                if d not in docs:
                    docs[d] = 1000.0 - rank
            run[f"q{i}"] = docs or {"none": 0.0}
        ms = (time.perf_counter() - t) * 1000 / len(cases)
        m = evaluate(qrels, Run(run), ["recall@5", "mrr@10", "ndcg@10"])
        results[mode] = {k: round(float(v), 4) for k, v in m.items()} | {"ms_per_query_excl_encode": round(ms, 2)}
        print(mode, results[mode], flush=True)
    out = {
        "bm25_weight": settings.retrieval.bm25_weight,
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "n_docs": len(idx.manifest["documents"]),
        "n_chunks": len(idx.chunks),
        "n_questions": len(cases),
        "results": results,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


def tune(idx, emb, settings, cases) -> None:  # type: ignore[no-untyped-def]
    """MRR@10 and recall@5 of the hybrid for several BM25 weights, on held-apart questions."""
    from ranx import Qrels, Run, evaluate

    from app.query.retrieve import HybridRetriever

    qrels = Qrels({f"t{i}": {c["gold_doc_ids"][0]: 1} for i, c in enumerate(cases)})
    vecs = emb.embed([c["question"] for c in cases])
    r = settings.retrieval
    for mode, w in (("dense", 1.0), ("bm25", 1.0), *(("hybrid", w) for w in (1.0, 0.75, 0.5, 0.35, 0.25))):
        ret = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, mode, r.near_duplicate_threshold, w)
        run: dict[str, dict[str, float]] = {}
        for i, c in enumerate(cases):
            docs: dict[str, float] = {}
            for rank, cand in enumerate(ret.retrieve(idx, vecs[i], c["question"], 50, None).candidates):
                docs.setdefault(idx.chunks[cand.row].doc_id, 1000.0 - rank)
            run[f"t{i}"] = docs or {"none": 0.0}
        m = evaluate(qrels, Run(run), ["recall@5", "mrr@10"])
        print(f"tune n={len(cases)} {mode} bm25_weight={w}: " + ", ".join(f"{k}={float(v):.4f}" for k, v in m.items()), flush=True)


if __name__ == "__main__":
    main()
