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
    args = ap.parse_args()

    from ranx import Qrels, Run, evaluate

    from app.query.calibrate import build_medquad_split
    from app.query.retrieve import HybridRetriever
    from app.settings import Settings
    from ingest.embed import get_embedder
    from ingest.pipeline import run_ingest
    from ingest.store import load_version

    settings = Settings()
    emb = get_embedder()
    corpus, cases = build_medquad_split(Path(settings.data.shared_dir), args.work_dir / "medquad", args.docs, args.heldout, args.seed)
    index_dir = args.work_dir / "index"
    run_ingest([corpus], index_dir, settings.ingest, emb)  # no-op when the calibration index is current
    idx = load_version(index_dir)
    cases = [c for c in cases if c["expected"] == "answer"]
    random.Random(args.seed).shuffle(cases)
    cases = cases[: args.questions]
    qrels = Qrels({f"q{i}": {c["gold_doc_ids"][0]: 1} for i, c in enumerate(cases)})
    vecs = emb.embed([c["question"] for c in cases])
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        r = settings.retrieval
        ret = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, mode, r.near_duplicate_threshold)
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


if __name__ == "__main__":
    main()
