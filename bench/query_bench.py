"""Query benchmark: server-side p50/p95 at 10k and 50k chunks beside the floor, plus a load run.

    .venv/bin/python bench/query_bench.py --index DIR [--questions N] [--sizes 10000,50000] [--load-seconds 20]

DIR is a real index (e.g. the shared guideline corpus, ~10k chunks). Larger sizes are made by
replicating its chunks with perturbed vectors and distinct ids (query latency depends on the
number of rows, not on their content). For each size, in one run and interleaved per question:
  floor  = query encode + FAISS search alone (the least any dense service must do)
  server = QueryService.answer() total (injection screen, encode, harm screen, dense+BM25+RRF,
           dedup, abstention, conflict check, sentence MMR, verification)
The query-embedding cache is disabled so every question is encoded.
The load run starts `guideground serve` on loopback and drives it with 8 concurrent clients.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def questions(shared: Path, n: int, seed: int) -> list[str]:
    qs = []
    with open(shared / "medquad" / "medquad_qa.jsonl") as fh:
        for line in fh:
            qs.append(json.loads(line)["question"])
    random.Random(seed).shuffle(qs)
    # Half clinician questions (the dev set: answered mostly) so that both the answering and the
    # abstaining paths are timed; MedQuAD's consumer questions mostly abstain on a guideline index.
    clin: list[str] = []
    for name in ("evalsets/clinician/test.jsonl", "evalsets/clinician/fit.jsonl", "evalsets/guideline_questions.jsonl"):
        f = REPO / name
        if f.is_file():
            clin += [json.loads(x)["question"] for x in f.read_text().splitlines() if x.strip()]
    random.Random(seed + 1).shuffle(clin)
    mixed = clin[: n // 2] + qs
    return list(dict.fromkeys(mixed))[:n]


def replicate(src_root: Path, dest_root: Path, size: int, seed: int) -> Path:
    from ingest.bm25 import Bm25Index
    from ingest.chunk import embedding_text
    from ingest.store import BuildArtifacts, load_version, write_version

    idx = load_version(src_root)
    rng = np.random.default_rng(seed)
    chunks, vecs, sents, rows = [], [], [], [0]
    k = 0
    while len(chunks) < size:
        for i, c in enumerate(idx.chunks):
            if len(chunks) >= size:
                break
            copy = c.model_copy(update={"chunk_id": f"{c.chunk_id}~{k}", "doc_id": f"{c.doc_id}~{k}" if k else c.doc_id})
            v = idx.vectors[i] + (rng.normal(0, 0.02, idx.vectors.shape[1]).astype(np.float32) if k else 0)
            chunks.append(copy)
            vecs.append(v / np.linalg.norm(v))
            block = idx.sentence_block(i)
            sents.append(block)
            rows.append(rows[-1] + block.shape[0])
        k += 1
    docs = {}
    for c in chunks:
        d = dict(idx.manifest["documents"][c.doc_id.split("~")[0]])
        d["n_chunks"] = d.get("n_chunks", 0)
        docs[c.doc_id] = d
    manifest = dict(idx.manifest, documents=docs, files={})
    art = BuildArtifacts(chunks, np.asarray(vecs, np.float32), np.concatenate(sents).astype(np.float32),
                         np.asarray(rows, np.int64), Bm25Index.build([embedding_text(c) for c in chunks]), manifest)
    write_version(dest_root, "v0001-bench", art, keep=1)
    return dest_root


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p))


def measure(root: Path, qs: list[str], settings) -> dict:
    from app.query.schemas import QueryRequest
    from app.query.service import QueryService

    s = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"query_cache_size": 0})})
    svc = QueryService.from_settings(s, index_dir=root)
    idx = svc.holder.get()
    for q in qs[:5]:  # warm-up
        svc.answer(QueryRequest(question=q))
    floor, server, statuses, status_of = [], [], {}, []
    for q in qs:
        t = time.perf_counter()
        v = svc.embedder.embed([q])
        idx.faiss_index.search(v, s.retrieval.dense_k)
        floor.append((time.perf_counter() - t) * 1000)
        r = svc.answer(QueryRequest(question=q))
        server.append(r.timings_ms.total)
        statuses[r.status] = statuses.get(r.status, 0) + 1
        status_of.append(r.status)
    by_status = {}
    for st in sorted(set(status_of)):  # each path beside the floor of the same questions
        f = [x for x, y in zip(floor, status_of, strict=True) if y == st]
        sv = [x for x, y in zip(server, status_of, strict=True) if y == st]
        by_status[st] = {"n": len(sv), "floor_p50_ms": round(statistics.median(f), 2), "server_p50_ms": round(statistics.median(sv), 2),
                         "ratio_p50": round(statistics.median(sv) / statistics.median(f), 3)}
    return {
        "chunks": len(idx.chunks),
        "floor_p50_ms": round(statistics.median(floor), 2), "floor_p95_ms": round(pct(floor, 95), 2),
        "server_p50_ms": round(statistics.median(server), 2), "server_p95_ms": round(pct(server, 95), 2),
        "ratio_p50": round(statistics.median(server) / statistics.median(floor), 3),
        "by_status": by_status, "statuses": statuses, "n_questions": len(qs),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_run(root: Path, qs: list[str], seconds: float, concurrency: int) -> dict:
    import httpx

    port = free_port()
    env = dict(os.environ, GUIDEGROUND_INDEX__DIR=str(root), GUIDEGROUND_DATABASE__URL=f"sqlite:///{root}/audit.db")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("server did not become ready: " + proc.stderr.read().decode()[-2000:])
        ok = errors = 0
        lat: list[float] = []
        lock = threading.Lock()
        stop = time.time() + seconds

        def worker(wid: int) -> None:
            nonlocal ok, errors
            rnd = random.Random(wid)
            with httpx.Client(base_url=base, timeout=30) as c:
                while time.time() < stop:
                    q = rnd.choice(qs)
                    t = time.perf_counter()
                    try:
                        r = c.post("/v1/query", json={"question": q})
                        good = r.status_code == 200
                    except httpx.HTTPError:
                        good = False
                    with lock:
                        lat.append((time.perf_counter() - t) * 1000)
                        ok += good
                        errors += not good

        ths = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
        t0 = time.time()
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        wall = time.time() - t0
        return {"concurrency": concurrency, "seconds": round(wall, 1), "requests": ok + errors, "errors": errors,
                "throughput_rps": round((ok + errors) / wall, 1), "client_p50_ms": round(statistics.median(lat), 1),
                "client_p95_ms": round(pct(lat, 95), 1)}
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--sizes", default="10000,50000")
    ap.add_argument("--load-seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from app.settings import Settings

    settings = Settings()
    qs = questions(args.shared, args.questions, args.seed)
    results = {"command": "python " + " ".join(sys.argv),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
               "sizes": []}
    tmp = Path(tempfile.mkdtemp(prefix="gg-bench-"))
    try:
        roots = []
        for size in [int(x) for x in args.sizes.split(",")]:
            root = replicate(args.index, tmp / f"s{size}", size, args.seed)
            roots.append(root)
            r = measure(root, qs, settings)
            results["sizes"].append(r)
            print(json.dumps(r), flush=True)
        if args.load_seconds > 0:
            results["load"] = load_run(roots[0], qs, args.load_seconds, args.concurrency)
            print(json.dumps(results["load"]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
