"""ANN indexes beside flat (real FAISS, real MiniLM vectors): recall against flat, exact filters, manifest."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.ann import ann_search, build_ann, choose_kind
from ingest.documents import AnnParams


@pytest.fixture(scope="module")
def corpus(demo_index):
    """The demo index's real chunk vectors plus 20k perturbed blends of two of them, and query vectors.

    Blends, not only noisy copies: 200+ copies of each of 90 vectors make 90 isolated clusters, on
    which HNSW's graph falls apart (recall 0.68-0.99 depending on M/efConstruction, measured); see
    docs/benchmarks.md for what the 1M benchmark's copies do.
    """
    from ingest.store import load_version

    idx = load_version(demo_index[0])
    rng = np.random.default_rng(7)
    base = idx.vectors
    n = 20_000 - len(base)
    i, j, w = rng.integers(0, len(base), n), rng.integers(0, len(base), n), rng.uniform(0.5, 1.0, (n, 1))
    blends = w * base[i] + (1 - w) * base[j] + rng.normal(0, 0.03, (n, base.shape[1]))
    vecs = np.concatenate([base, blends.astype(np.float32)])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    queries = base[:40] + rng.normal(0, 0.05, base[:40].shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return np.ascontiguousarray(vecs, dtype=np.float32), queries.astype(np.float32)


def _recall(vecs, queries, index, info, k=10, allowed=None):
    flat, flat_info = build_ann(vecs, AnnParams(kind="flat"))
    hits = 0
    for q in queries:
        want, _ = ann_search(flat, flat_info, vecs, q, k, allowed)
        got, _ = ann_search(index, info, vecs, q, k, allowed)
        if allowed is not None:
            assert np.isin(got, allowed).all()  # a filter is never violated
        hits += len(set(want.tolist()) & set(got.tolist()))
    return hits / (k * len(queries))


@pytest.mark.parametrize("kind", ["hnsw", "ivf-sq8", pytest.param("ivf-pq", marks=pytest.mark.slow)])  # PQ training: ~30-90 s
def test_ann_kinds_find_what_flat_finds(corpus, kind):
    vecs, queries = corpus
    # 16 sub-quantizers keep PQ training short in CI; the benchmark uses the default 48.
    index, info = build_ann(vecs, AnnParams(kind=kind, train_sample=5000, ivf_nlist=64, pq_m=16))
    assert info["kind"] == kind and index.ntotal == len(vecs)
    if kind != "hnsw":  # quantizers trained on a seeded sample, not on everything
        assert info["n_train"] == 5000 and info["nlist"] == 64
    # IVF kinds re-rank with the float vectors; HNSW on this blended synthetic set sits near 0.9, and
    # 16-way PQ (coarse codes) near 0.94 after re-ranking (about 0.5-0.7 without it).
    floor = {"hnsw": 0.85, "ivf-pq": 0.9, "ivf-sq8": 0.95}[kind]
    assert _recall(vecs, queries, index, info) >= floor
    # A broad filter (every other row) is applied after the ANN search, a selective one exactly.
    broad = np.arange(0, len(vecs), 2)
    assert _recall(vecs, queries, index, info, allowed=broad) >= floor
    selective = np.arange(0, len(vecs), 97)
    assert _recall(vecs, queries, index, info, allowed=selective) == 1.0


def test_auto_picks_flat_small_and_ivf_sq8_large():
    p = AnnParams()
    assert choose_kind(10_000, p) == "flat" and choose_kind(p.auto_min_chunks, p) == "ivf-sq8"
    assert choose_kind(10, AnnParams(kind="ivf-sq8")) == "ivf-sq8"


def test_published_index_records_its_ann_and_the_retriever_uses_it(tmp_path, demo_index):
    from app.query.retrieve import HybridRetriever
    from ingest.store import BuildArtifacts, load_version, write_version

    src = load_version(demo_index[0])
    art = BuildArtifacts(src.chunks, src.vectors, np.asarray(src.sentence_vectors), src.sentence_rows, src.bm25, dict(src.manifest))
    write_version(tmp_path, "v0001-ann", art, keep=1, ann=AnnParams(kind="hnsw"))
    idx = load_version(tmp_path)
    assert idx.manifest["ann"]["kind"] == "hnsw" and idx.faiss_index.ntotal == len(idx.chunks)
    assert isinstance(idx.vectors, np.memmap)  # float vectors are mapped, not loaded, beside an ANN index
    ret = HybridRetriever(20, 20, 60, "dense", 0.97, 0.75)
    q = src.vectors[3]
    got, sims = ret.dense(idx, q, 5, None)
    want, wsims = ret.dense(src, q, 5, None)
    assert got[0] == want[0] == 3 and np.allclose(sims[0], wsims[0], atol=1e-5)
    allowed = np.asarray([i for i, c in enumerate(idx.chunks) if c.doc_id == idx.chunks[10].doc_id])
    got, _ = ret.dense(idx, q, 5, allowed)
    assert len(got) == min(5, len(allowed)) and np.isin(got, allowed).all()


@pytest.mark.parametrize("n_allowed", [1, 7, 333, 12_001])
def test_flat_filter_is_exact_top_k_of_allowed_rows(corpus, n_allowed):
    """A filtered flat search returns exactly the best allowed rows (the bitmap selector's bit order, a row
    count that is not a multiple of 8, an unsorted filter)."""
    import faiss

    vecs, queries = corpus
    vecs = vecs[:19_997]
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs)
    rng = np.random.default_rng(n_allowed)
    allowed = rng.choice(len(vecs), n_allowed, replace=False)  # unsorted
    allowed[0] = len(vecs) - 1  # the last row: the bitmap's final, partial byte
    for q in queries[:10]:
        got, sims = ann_search(flat, {"kind": "flat"}, vecs, q, 10, allowed)
        exact = vecs[allowed] @ q
        order = np.argsort(-exact, kind="stable")[:10]
        assert got.tolist() == allowed[order].tolist()
        assert np.allclose(sims, exact[order], atol=1e-5)
