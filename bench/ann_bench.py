"""ANN at scale: recall@10 against flat, search p50/p95, resident memory and build time, up to 1M chunks.

    .venv/bin/python bench/ann_bench.py --index DIR [--size 1000000] [--kinds flat,ivf-sq8,hnsw,ivf-pq]
                                        [--queries 200] [--json OUT] [--work /tmp/ann-bench]

DIR is a real index (the shared corpus, ~10k chunks). As bench/query_bench.py does at 50k, the
larger corpus is its real chunk vectors plus perturbed copies (N(0, 0.02) per dimension, then
L2-normalized). Queries are real questions (MedQuAD + guideline questions) encoded with the
packaged MiniLM. Ground truth is exact inner product over all rows. For each kind the index is
built here (build time), written to disk, then served by a fresh subprocess that loads it the
way ``load_version`` does (float vectors memory-mapped beside ANN kinds, loaded beside flat) and
runs ``ingest.ann.ann_search`` per query (one FAISS thread): p50/p95 and its VmRSS afterwards.
The 10k flat search p50 is measured the same way, for the "≤ 2× the 10k p50" comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_corpus(index_dir: Path, size: int, seed: int) -> np.ndarray:
    from ingest.store import load_version

    base = load_version(index_dir).vectors
    rng = np.random.default_rng(seed)
    out = np.empty((size, base.shape[1]), dtype=np.float32)
    out[: min(size, len(base))] = base[:size]
    pos = len(base)
    while pos < size:
        take = min(len(base), size - pos)
        block = base[:take] + rng.normal(0, 0.02, (take, base.shape[1])).astype(np.float32)
        out[pos : pos + take] = block / np.linalg.norm(block, axis=1, keepdims=True)
        pos += take
    return out


def questions(n: int, seed: int) -> list[str]:
    from bench.query_bench import questions as qb

    return qb(REPO.parent / "shared" / "data", n, seed)


def ground_truth(vecs: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    best = np.zeros((len(q), 0), np.int64)
    best_s = np.zeros((len(q), 0), np.float32)
    for a in range(0, len(vecs), 200_000):
        s = q @ vecs[a : a + 200_000].T
        top = np.argpartition(-s, k, axis=1)[:, :k]
        best = np.concatenate([best, top + a], axis=1)
        best_s = np.concatenate([best_s, np.take_along_axis(s, top, 1)], axis=1)
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best, best_s = np.take_along_axis(best, keep, 1), np.take_along_axis(best_s, keep, 1)
    return best


def serve(work: Path, kind: str, k: int) -> dict:
    """Child process: load the index as the service would, search every query, report latency and RSS."""
    import faiss

    from ingest.ann import ann_search

    # One thread per query: the service searches one question at a time and parallelism comes from
    # concurrent requests; OpenMP teams spinning on a shared, loaded machine only add noise.
    faiss.omp_set_num_threads(1)
    info = json.loads((work / f"{kind}.json").read_text())
    index = faiss.read_index(str(work / f"{kind}.faiss"))
    vectors = np.load(work / "vectors.npy", mmap_mode="r" if kind != "flat" else None)
    q = np.load(work / "queries.npy")
    ann_search(index, info, vectors, q[0], k)  # warm
    times, ids = [], []
    for v in q:
        t = time.perf_counter()
        got, _ = ann_search(index, info, vectors, v, k)
        times.append((time.perf_counter() - t) * 1000)
        ids.append(np.pad(got, (0, k - len(got)), constant_values=-1))
    np.save(work / f"{kind}.ids.npy", np.asarray(ids))
    rss = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmRSS"))
    return {"p50_ms": round(float(np.percentile(times, 50)), 3), "p95_ms": round(float(np.percentile(times, 95)), 3),
            "rss_mb": round(rss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", type=Path, help="a real index to take vectors from")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--kinds", default="flat,ivf-sq8,hnsw,ivf-pq")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--work", type=Path, default=Path("/tmp/ann-bench"))
    ap.add_argument("--nprobe", type=int, default=None, help="IVF cells visited per query (default: ingest.ann.ivf_nprobe)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        print(json.dumps(serve(args.work, args.serve, args.k)))
        return

    import faiss

    from ingest.ann import build_ann
    from ingest.documents import AnnParams
    from ingest.embed import get_embedder

    args.work.mkdir(parents=True, exist_ok=True)
    q = get_embedder().embed(questions(args.queries, args.seed))
    np.save(args.work / "queries.npy", q)
    results: dict[str, dict] = {}
    for size, kinds in ((None, ["flat"]), (args.size, args.kinds.split(","))):
        vecs = make_corpus(args.index, size or 10**9, args.seed) if size else None
        if vecs is None:
            from ingest.store import load_version

            vecs = np.ascontiguousarray(load_version(args.index).vectors)
        n = len(vecs)
        np.save(args.work / "vectors.npy", vecs)
        t = time.perf_counter()
        truth = ground_truth(vecs, q, args.k)
        print(f"{n} rows; exact ground truth in {time.perf_counter() - t:.1f} s", flush=True)
        for kind in kinds:
            t = time.perf_counter()
            ann = AnnParams(kind=kind) if args.nprobe is None else AnnParams(kind=kind, ivf_nprobe=args.nprobe)
            index, info = build_ann(vecs, ann, seed=args.seed)
            build_s = time.perf_counter() - t
            faiss.write_index(index, str(args.work / f"{kind}.faiss"))
            (args.work / f"{kind}.json").write_text(json.dumps(info))
            del index
            proc = subprocess.run([sys.executable, __file__, "--serve", kind, "--work", str(args.work), "--k", str(args.k)],
                                  capture_output=True, text=True, cwd=REPO)
            served = json.loads(proc.stdout.strip().splitlines()[-1])
            got = np.load(args.work / f"{kind}.ids.npy")
            recall = float(np.mean([len(set(a) & set(b)) / args.k for a, b in zip(truth.tolist(), got.tolist(), strict=True)]))
            row = {"n": n, "kind": kind, "build_s": round(build_s, 1), "recall_at_10": round(recall, 4),
                   "index_file_mb": round((args.work / f"{kind}.faiss").stat().st_size / 2**20, 1), **served,
                   "params": {k: v for k, v in info.items() if k not in ("build_s",)}}
            results[f"{n}:{kind}"] = row
            print(json.dumps(row), flush=True)
        del vecs
    out = {"command": "python " + " ".join(sys.argv), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
           f"Python {platform.python_version()}, faiss {faiss.__version__}, load avg {os.getloadavg()[0]:.1f} at end",
           "results": results}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
