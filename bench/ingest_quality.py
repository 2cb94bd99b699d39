"""Retrieval quality per encoder backend: recall@5 and MRR@10 (doc level, ranx), torch vs ONNX.

    .venv/bin/python bench/ingest_quality.py [--backends torch,onnx-int8] [--docs 400] [--questions 800]
                                             [--guideline-index BACKEND=DIR ...] [--work /tmp/ingest-quality] [--json OUT]

MedQuAD: the corpus `app.eval.datasets.build_medquad` writes (documents made of their answers),
ingested once per backend; answerable questions whose gold document is indexed; hybrid (as served)
and dense rankings, distinct doc ids in order, as bench/retrieval_bench.py does. Guideline questions
(evalsets/guideline_questions.jsonl, and the clinician dev set's answerable questions, fit + test): the
same metrics on full shared-corpus indexes built per backend
(e.g. by bench/ingest_compare.py), passed as BACKEND=DIR. Queries are encoded with the index's backend.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def evaluate_index(index_dir: Path, backend: str, cases: list[dict]) -> dict:
    from ranx import Qrels, Run, evaluate

    from app.query.retrieve import HybridRetriever
    from app.settings import Settings
    from ingest.documents import EmbeddingParams
    from ingest.embed import get_embedder
    from ingest.store import load_version

    idx = load_version(index_dir)
    emb = get_embedder(EmbeddingParams(backend=backend))
    r = Settings().retrieval
    qrels = Qrels({f"q{i}": dict.fromkeys(c["gold_doc_ids"], 1) for i, c in enumerate(cases)})
    vecs = emb.embed([c["question"] for c in cases])
    out = {}
    for mode in ("hybrid", "dense"):
        ret = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, mode, r.near_duplicate_threshold, r.bm25_weight)
        run: dict[str, dict[str, float]] = {}
        for i, c in enumerate(cases):
            docs: dict[str, float] = {}
            for rank, cand in enumerate(ret.retrieve(idx, vecs[i], c["question"], 50, None).candidates):
                docs.setdefault(idx.chunks[cand.row].doc_id, 1000.0 - rank)
            run[f"q{i}"] = docs or {"none": 0.0}
        m = evaluate(qrels, Run(run), ["recall@5", "mrr@10"])
        out[mode] = {k: round(float(v), 4) for k, v in m.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backends", default="torch,onnx-int8")
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--questions", type=int, default=800)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--guideline-index", action="append", default=[], help="BACKEND=DIR of a full-corpus index")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ingest-quality"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from app.eval.datasets import build_medquad
    from app.settings import Settings
    from ingest.documents import EmbeddingParams
    from ingest.embed import get_embedder
    from ingest.pipeline import run_ingest

    settings = Settings()
    results: dict[str, dict] = {}
    if args.docs:
        corpus, cases_path = build_medquad(args.work / "medquad", args.docs, 0, args.seed)
        cases = [json.loads(x) for x in cases_path.read_text().splitlines() if x.strip()]
        cases = [c for c in cases if c.get("expected") == "answer" and c.get("gold_doc_ids")]
        random.Random(args.seed).shuffle(cases)
        cases = cases[: args.questions]
        for be in args.backends.split(","):
            params = settings.ingest.model_copy(update={"embedding": EmbeddingParams(backend=be)})
            rep = run_ingest([corpus], args.work / f"index-{be}", params, get_embedder(params.embedding))
            results[f"medquad:{be}"] = {"n_chunks": rep.n_chunks, "n_questions": len(cases), **evaluate_index(args.work / f"index-{be}", be, cases)}
            print(f"medquad {be}", results[f"medquad:{be}"], flush=True)
    sets = {"guidelines": ["evalsets/guideline_questions.jsonl"],
            "clinician": ["evalsets/clinician/fit.jsonl", "evalsets/clinician/test.jsonl"]}
    for name, files in sets.items():
        gl = [json.loads(x) for f in files for x in (REPO / f).read_text().splitlines() if x.strip()]
        gl = [c for c in gl if c.get("expected") == "answer" and c.get("gold_doc_ids")]
        for spec in args.guideline_index:
            be, d = spec.split("=", 1)
            results[f"{name}:{be}"] = {"n_questions": len(gl), **evaluate_index(Path(d), be, gl)}
            print(f"{name} {be}", results[f"{name}:{be}"], flush=True)
    out = {"command": "python " + " ".join(sys.argv), "machine": f"{platform.machine()}, Python {platform.python_version()}", "results": results}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
