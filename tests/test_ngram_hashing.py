"""The screen's n-gram views count hashed n-grams themselves (app.safety.ngrams.HashedCounts): the features and the
probabilities must be exactly those of scikit-learn's HashingVectorizer, which they replace on the serving path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from app.safety import ngrams
from app.safety.ngrams import NgramLR, NgramSpec
from app.safety.normalize import deobfuscate, sentences
from app.safety.screen import RequestScreen
from app.settings import Settings
from tests.conftest import SHARED  # the configured shared data folder (GUIDEGROUND_DATA__SHARED_DIR)

REPO = Path(__file__).resolve().parents[1]

# Case folding, whitespace and scripts where a hand-written analyzer could part from scikit-learn's.
ODD = [
    "", " ", "\t\n", "a", "I", "?!", "12", "Write  a\tfake\n\nnote", "  leading and trailing  ", "ΟΔΟΣ ΣΟΦΟΣ σοφός",
    "İstanbul DİYARBAKIR", "Straße STRASSE", "ſtop the Kelvin \u212a sign", "ﬁle ﬂu", "e\u0301 é", "naïve café",
    "中文的问题 how much", "emoji 💊💊 dose", "x" * 300, "a-b_c d'e f.g h/i", "\u00a0non\u00a0breaking\u2003space",
    "\u200bzero width", "UPPER lower MiXeD", "dose dose dose dose", "How much insulin to kill someone undetected?",
]


def _corpus() -> list[str]:
    texts: list[str] = []
    for f in sorted((REPO / "evalsets").rglob("*.jsonl")):
        for line in f.read_text().splitlines():
            if line.strip() and "question" in (d := json.loads(line)):
                texts.append(d["question"])
    msb = SHARED / "medsafetybench" / "medsafetybench_train.jsonl"
    if msb.is_file():
        texts += [json.loads(x)["prompt"] for x in msb.read_text().splitlines() if x.strip()]
    texts = list(dict.fromkeys(texts))
    norm = [deobfuscate(t) for t in texts]
    return ODD + texts + norm + [s for n in norm for s in sentences(n)]


def _reference(model: NgramLR, texts: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """The n-gram view as it was computed through HashingVectorizer.transform (features and probabilities)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    counts = HashingVectorizer(
        analyzer=model.spec.analyzer, ngram_range=model.spec.ngram, n_features=model.spec.n_features,
        alternate_sign=False, norm=None, lowercase=True, dtype=np.float32,
    ).transform(texts).tocsr()
    column = np.full(model.spec.n_features, -1, np.int32)
    column[model.buckets] = np.arange(len(model.buckets), dtype=np.int32)
    cols = column[counts.indices]
    keep = cols >= 0
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))[keep]
    cols = cols[keep]
    w = (1.0 + np.log(counts.data[keep].astype(np.float64))) * model.idf[cols]
    norms = np.sqrt(np.bincount(rows, w * w, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    w = w / norms[rows]
    z = np.bincount(rows, w * model.coef[cols].astype(np.float64), minlength=len(texts)) + model.intercept
    x = sp.csr_matrix((w, (rows, cols)), shape=(len(texts), len(model.buckets)))
    return x, 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _models() -> list[NgramLR]:
    shipped = RequestScreen.load(Settings().safety.screen_file).ngram_models
    assert {m.spec.analyzer for m in shipped} == {"word", "char_wb"}
    texts = [t for t in _corpus()[:400] if t]
    y = np.array([i % 2 for i in range(len(texts))])
    # every bucket seen kept (min_df=1), and a small hash space, so collisions are summed as the hasher sums them
    small = [NgramLR.fit(NgramSpec(a, ng, 1 << 12), texts, y, np.ones(len(y)), C=1.0, min_df=1, seed=0)
             for a, ng in (("word", (1, 2)), ("char_wb", (2, 5)))]
    return [*shipped, *small]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return _corpus()


@pytest.mark.parametrize("model", _models(), ids=lambda m: f"{m.spec.name}-{m.spec.n_features}")
def test_ngram_features_and_probabilities_equal_the_hashing_vectorizer(model: NgramLR, corpus: list[str]) -> None:
    ref_x, ref_p = _reference(model, corpus)
    x = model.vectorize(corpus)
    x.sort_indices()
    assert np.array_equal(x.indptr, ref_x.indptr) and np.array_equal(x.indices, ref_x.indices)
    assert x.data.tobytes() == ref_x.data.tobytes()  # bit for bit
    assert model.proba(corpus).tobytes() == ref_p.tobytes()
    # one text at a time (the serving path: a question and its sentences) gives the same bits as the batch
    for i in range(0, len(corpus), 97):
        assert model.proba(corpus[i : i + 3]).tobytes() == ref_p[i : i + 3].tobytes()


def test_a_full_memo_is_cleared_without_changing_a_count(monkeypatch: pytest.MonkeyPatch, corpus: list[str]) -> None:
    model = RequestScreen.load(Settings().safety.screen_file).ngram_models[-1]
    texts = corpus[:300]
    _, ref_p = _reference(model, texts)
    monkeypatch.setattr(ngrams, "MEMO_LIMIT", 7)
    fresh = NgramLR(model.spec, model.buckets, model.idf, model.coef, model.intercept)
    assert np.concatenate([fresh.proba([t]) for t in texts]).tobytes() == ref_p.tobytes()
    assert fresh.proba([]).shape == (0,)
