"""BM25 top-k selection (ingest.bm25.top_positive): the k best positive scores, best first, ties in row order —
checked against a full sort, on synthetic scores (mostly zeros, many ties) and on the real demo index."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.bm25 import top_positive
from ingest.store import load_version


def _reference(scores: np.ndarray, k: int) -> list[int]:
    rows = [r for r in range(len(scores)) if scores[r] > 0]
    return sorted(rows, key=lambda r: (-scores[r], r))[:k]


@pytest.mark.parametrize("n_positive", [0, 3, 50, 51, 400, 5000])
@pytest.mark.parametrize("k", [1, 10, 50])
def test_top_positive_is_the_sorted_prefix(n_positive, k):
    rng = np.random.default_rng(n_positive * 100 + k)
    scores = np.zeros(5000, dtype=np.float32)
    rows = rng.choice(5000, n_positive, replace=False)
    scores[rows] = rng.integers(1, 6, n_positive).astype(np.float32) / 2  # few distinct values: ties at the k-th place
    got = top_positive(scores, k)
    assert got.dtype == np.int64
    assert got.tolist() == _reference(scores, k)


def test_negative_scores_are_never_returned():
    scores = np.array([-1.0, 0.0, 2.0, -3.0, 2.0], dtype=np.float32)
    assert top_positive(scores, 5).tolist() == [2, 4]


def test_search_on_the_demo_index_matches_a_full_sort(demo_index):
    idx = load_version(demo_index[0])
    bm = idx.bm25
    for q in ["How often should adults be screened for hypertension?", "What is the starting dose of metformin?",
              "screening screening adults", "naloxone"]:
        ids, scores = bm.search(q, 10)
        full = np.asarray(bm.scores_for(q), dtype=np.float32)
        assert ids.tolist() == _reference(full, 10)
        assert scores.tolist() == full[ids].tolist()
        assert len(ids) and (scores > 0).all()
