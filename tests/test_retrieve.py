"""Weighted reciprocal rank fusion over the real demo index (FAISS + bm25s, real embeddings)."""

from __future__ import annotations

import pytest

from app.query.retrieve import HybridRetriever
from ingest.store import load_version

QUESTION = "How often should adults with normal blood pressure be screened for hypertension?"


@pytest.fixture(scope="module")
def loaded(demo_index, embedder):
    root, _ = demo_index
    return load_version(root), embedder.embed([QUESTION])[0]


@pytest.mark.parametrize("weight", [0.0, 0.5, 0.75, 1.0])
def test_fused_score_is_dense_rrf_plus_weighted_bm25_rrf(loaded, weight):
    idx, q = loaded
    k = 60
    res = HybridRetriever(rrf_k=k, mode="hybrid", near_dup=1.0, bm25_weight=weight).retrieve(idx, q, QUESTION, 10, None)
    assert res.candidates
    for c in res.candidates:
        expected = (1.0 / (k + c.dense_rank + 1) if c.dense_rank is not None else 0.0) + (
            weight / (k + c.bm25_rank + 1) if c.bm25_rank is not None else 0.0
        )
        assert c.score == pytest.approx(expected)
    assert [c.score for c in res.candidates] == sorted((c.score for c in res.candidates), reverse=True)


def test_zero_bm25_weight_keeps_the_dense_order_and_bm25_mode_ignores_the_weight(loaded):
    idx, q = loaded
    dense = HybridRetriever(mode="dense", near_dup=1.0).retrieve(idx, q, QUESTION, 8, None)
    hybrid0 = HybridRetriever(mode="hybrid", near_dup=1.0, bm25_weight=0.0).retrieve(idx, q, QUESTION, 8, None)
    assert [c.row for c in hybrid0.candidates] == [c.row for c in dense.candidates]
    bm25_a = HybridRetriever(mode="bm25", near_dup=1.0, bm25_weight=0.1).retrieve(idx, q, QUESTION, 8, None)
    bm25_b = HybridRetriever(mode="bm25", near_dup=1.0, bm25_weight=1.0).retrieve(idx, q, QUESTION, 8, None)
    assert [(c.row, c.score) for c in bm25_a.candidates] == [(c.row, c.score) for c in bm25_b.candidates]


def test_bm25_terms_fast_path_matches_bm25s_tokenize():
    import bm25s

    from ingest.bm25 import Bm25Index

    texts = [
        "Adults who have never received Tdap should get 1 dose, followed by a Td or Tdap booster every 10 years.",
        "The USPSTF recommends AGAINST routine screening (D recommendation); BMI ≥30 kg/m² — 12-week programs.",
    ]
    b = Bm25Index.build(texts)
    for t in texts:
        ref = bm25s.tokenize([t], lower=True, token_pattern=b.params.token_pattern, stopwords="en", stemmer=b._stem, return_ids=False, show_progress=False)[0]
        assert b.terms(t) == ref
