"""Dense index kinds beside flat: HNSW, IVF-SQ8 and IVF-PQ; a search that keeps metadata filters exact.

``build_ann`` chooses the kind from ``AnnParams`` (or the size, for ``auto``), trains quantizers on
a seeded sample, and returns the FAISS index plus a description that goes into the manifest
(``manifest["ann"]``). ``ann_search`` is what the query side calls:

* no filter: the ANN index returns candidates; IVF kinds re-rank ``k * refine`` candidates with the
  exact float vectors (``vectors.npy``), so compressed codes only choose candidates;
* a filter (allowed rows): the ANN result is over-fetched (``k * filter_oversample``) and cut to the
  allowed rows; if fewer than ``k`` survive, the allowed rows are scored exactly against the float
  vectors. A filter therefore never loses an allowed row to approximation when it is selective.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ingest.documents import AnnParams

IVF_REFINE = {"ivf-sq8": 4, "ivf-pq": 10}  # IVF kinds fetch k * this candidates, re-ranked with float vectors


def choose_kind(n: int, params: AnnParams) -> str:
    if params.kind != "auto":
        return params.kind
    # IVF-SQ8 + exact re-rank, not HNSW: at 1M rows it kept recall@10 at 1.0 where HNSW's graph lost
    # the near-duplicate clusters of the benchmark corpus, in a quarter of the memory (docs/benchmarks.md).
    return "ivf-sq8" if n >= params.auto_min_chunks else "flat"


def _nlist(n: int, params: AnnParams) -> int:
    if params.ivf_nlist:
        return max(1, min(params.ivf_nlist, n // 39 or 1))
    return max(1, min(int(4 * np.sqrt(n)), n // 39 or 1))  # FAISS wants >= 39 training points per cell


def build_ann(vectors: np.ndarray, params: AnnParams | None = None, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """FAISS index over L2-normalized float32 vectors (inner product) and its manifest description."""
    import faiss

    params = params or AnnParams()
    n, d = vectors.shape
    kind = choose_kind(n, params)
    t0 = time.perf_counter()
    info: dict[str, Any] = {"kind": kind}
    index: Any
    if kind == "flat" or n == 0:
        index = faiss.IndexFlatIP(d)
        info["kind"] = "flat"
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.hnsw_ef_construction
        info.update(m=params.hnsw_m, ef_construction=params.hnsw_ef_construction, ef_search=params.hnsw_ef_search)
    elif kind in ("ivf-sq8", "ivf-pq"):
        nlist = _nlist(n, params)
        quantizer: Any = faiss.IndexFlatIP(d)
        if kind == "ivf-sq8":
            index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFPQ(quantizer, d, nlist, params.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
            info["pq_m"] = params.pq_m
        rng = np.random.default_rng(seed)
        take = min(n, max(params.train_sample, 39 * nlist))
        sample = vectors[np.sort(rng.choice(n, size=take, replace=False))] if take < n else vectors
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.own_fields = True
        quantizer.this.disown()
        info.update(nlist=nlist, nprobe=min(params.ivf_nprobe, nlist), n_train=int(take), train_seed=seed, refine=IVF_REFINE[kind])
    else:  # pragma: no cover - the settings type forbids it
        raise ValueError(f"unknown ANN kind {kind}")
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    info["build_s"] = round(time.perf_counter() - t0, 3)
    info["filter_oversample"] = params.filter_oversample
    return index, info


def _search_params(info: dict[str, Any], overrides: dict[str, int] | None, want: int) -> Any:
    """Per-call parameters (never set on the shared index object: searches may run concurrently)."""
    import faiss

    o = overrides or {}
    kind = info.get("kind", "flat")
    if kind == "hnsw":
        # The beam must be at least as wide as the list asked for (over-fetching under a filter).
        ef = max(want, int(o.get("ef_search", info.get("ef_search", 64))))
        return faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
    if kind in ("ivf-sq8", "ivf-pq"):
        return faiss.SearchParametersIVF(nprobe=int(o.get("nprobe", info.get("nprobe", 32))))  # type: ignore[call-arg]
    return None


def _exact(vectors: np.ndarray, q: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    scores = np.asarray(vectors[rows] @ q, dtype=np.float32)
    top = np.argsort(-scores, kind="stable")[:k]
    return rows[top].astype(np.int64), scores[top]


def ann_search(
    index: Any,
    info: dict[str, Any] | None,
    vectors: np.ndarray,
    q: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
    overrides: dict[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (row ids, inner products), best first. ``allowed``: row ids a metadata filter keeps (exact)."""
    import faiss

    info = info or {"kind": "flat"}
    kind = info.get("kind", "flat")
    n = index.ntotal
    if n == 0 or k <= 0 or (allowed is not None and allowed.size == 0):
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    q = np.ascontiguousarray(q, dtype=np.float32).reshape(1, -1)
    if kind == "flat":
        k = min(k, n if allowed is None else int(allowed.size))
        if allowed is None:
            sims, ids = index.search(q, k)
        else:
            # A bitmap over all rows: O(n/8) to build, O(1) per test, ~2x cheaper than a hashed IDSelectorBatch of a
            # large allowed set (a named issuer's guidelines); `bits` must outlive the search.
            mask = np.zeros(n, dtype=bool)
            mask[allowed] = True
            bits = np.packbits(mask, bitorder="little")
            sel = faiss.SearchParameters(sel=faiss.IDSelectorBitmap(bits))  # type: ignore[call-arg, arg-type]
            sims, ids = index.search(q, k, params=sel)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), sims[0][keep]
    oversample = int(info.get("filter_oversample", 8))
    if allowed is not None and allowed.size <= max(4 * k * oversample, 2048):
        return _exact(vectors, q[0], np.asarray(allowed, np.int64), k)  # selective filter: exact over its rows
    refine = int(info.get("refine", 1)) if kind in ("ivf-sq8", "ivf-pq") else 1
    want = min(n, k * refine * (oversample if allowed is not None else 1))
    params = _search_params(info, overrides, want)
    scores, ids = index.search(q, want, params=params)
    ids, scores = ids[0], scores[0]
    keep = ids >= 0
    ids, scores = ids[keep].astype(np.int64), scores[keep]
    if allowed is not None:
        mask = np.zeros(n, dtype=bool)
        mask[allowed] = True
        m = mask[ids]
        ids, scores = ids[m], scores[m]
        if ids.size < k:  # the filter removed too much: score its rows exactly
            return _exact(vectors, q[0], np.asarray(allowed, np.int64), k)
    if refine > 1:  # re-rank compressed candidates with the float vectors
        return _exact(vectors, q[0], np.sort(ids), k)
    return ids[:k], scores[:k]


def dense_search(loaded: Any, q: np.ndarray, k: int, allowed: np.ndarray | None, overrides: dict[str, int] | None = None):
    """``ann_search`` on a loaded index version (its FAISS index, manifest ``ann`` entry, float vectors)."""
    return ann_search(loaded.faiss_index, loaded.manifest.get("ann"), loaded.vectors, q, k, allowed, overrides)
