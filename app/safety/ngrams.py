"""Logistic regression over hashed TF-IDF n-grams: the screen's reader of *wording*.

MiniLM's mean-pooled vector says what a question is about; a harmful request and a legitimate
clinical question about the same topic sit close together. The task framing that separates them
("write a ... without disclosing", "how would you avoid reporting ...") lives in word and character
n-grams, which a linear model over sparse TF-IDF features reads well (on the validation split this
halved the screen's errors; docs/safety.md).

Features come from scikit-learn's stateless ``HashingVectorizer``, so the artefact needs no
vocabulary: only the hash buckets seen in at least ``min_df`` training questions, with their IDF and
weight, stored as plain arrays (the screen loads with ``allow_pickle=False``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

ANALYZERS = ("word", "char_wb")
_WHITE_SPACES = re.compile(r"\s\s+")  # as the char_wb analyzer collapses whitespace before it splits words
MEMO_LIMIT = 50_000  # n-grams or words whose kept columns are remembered (cleared when full)


@dataclass(frozen=True)
class NgramSpec:
    analyzer: str
    ngram: tuple[int, int]
    n_features: int

    @property
    def name(self) -> str:
        return f"{self.analyzer}{self.ngram[0]}{self.ngram[1]}"


def _hasher(spec: NgramSpec) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    if spec.analyzer not in ANALYZERS:
        raise ValueError(f"unknown n-gram analyzer {spec.analyzer!r}")
    return HashingVectorizer(
        analyzer=spec.analyzer, ngram_range=spec.ngram, n_features=spec.n_features,
        alternate_sign=False, norm=None, lowercase=True, dtype=np.float32,
    )


class HashedCounts:
    """The kept hash buckets' counts of texts, exactly as ``HashingVectorizer.transform`` counts them (the same
    analyzer, murmurhash3 with seed 0, ``abs(h) % n_features``, duplicates summed, buckets in ascending order), without
    its per-call validation and sparse-matrix construction (≈ 3x cheaper on one question and its sentences).

    A character n-gram lies within one word (char_wb pads each word), so that view looks each lowercased word up
    once; the word view looks each n-gram up once. Lookups are remembered, so a later text pays only for new words."""

    def __init__(self, spec: NgramSpec, buckets: np.ndarray) -> None:
        from sklearn.utils import murmurhash3_32

        hasher = _hasher(spec)
        self._murmurhash = murmurhash3_32
        self._analyze = hasher.build_analyzer()
        self._preprocess = hasher.build_preprocessor()
        self._by_word = spec.analyzer == "char_wb"
        self._n_features = spec.n_features
        self._column = {b: i for i, b in enumerate(buckets.tolist())}
        self._memo: dict[str, tuple[int, ...]] = {}

    def _columns(self, unit: str) -> tuple[int, ...]:
        """The kept columns of a word's character n-grams (char_wb; ``unit`` is lowercased and has no whitespace, so
        the analyzer reads it as that one word) or of one word n-gram, in the analyzer's order."""
        cols = self._memo.get(unit)
        if cols is None:
            grams = self._analyze(unit) if self._by_word else (unit,)
            found = (self._column.get(abs(self._murmurhash(g, seed=0)) % self._n_features) for g in grams)
            cols = tuple(c for c in found if c is not None)
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[unit] = cols
        return cols

    def columns(self, text: str) -> list[int]:
        """The kept column of every n-gram occurrence in ``text`` (repeats included)."""
        units = _WHITE_SPACES.sub(" ", self._preprocess(text)).split() if self._by_word else self._analyze(text)
        out: list[int] = []
        for u in units:
            out += self._columns(u)
        return out

    def counts(self, texts: Sequence[str], n_columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, count) of every kept bucket a text holds, by row then column (a CSR matrix's order)."""
        per = [self.columns(t) for t in texts]
        rows = np.repeat(np.arange(len(per), dtype=np.int64), [len(p) for p in per])
        keys, counts = np.unique(rows * n_columns + np.fromiter(itertools.chain.from_iterable(per), np.int64, len(rows)), return_counts=True)
        return keys // n_columns, keys % n_columns, counts


@dataclass(frozen=True, eq=False)
class NgramLR:
    """P(harmful | question) from one n-gram view. ``buckets`` are the hash columns kept."""

    spec: NgramSpec
    buckets: np.ndarray  # int32, sorted
    idf: np.ndarray  # float32, one per kept bucket
    coef: np.ndarray  # float32, one per kept bucket
    intercept: float

    def __post_init__(self) -> None:
        if not (self.buckets.shape == self.idf.shape == self.coef.shape and self.buckets.ndim == 1):
            raise ValueError(f"n-gram model {self.spec.name}: buckets, idf and coef differ in shape")

    @cached_property
    def _counts(self) -> HashedCounts:
        return HashedCounts(self.spec, self.buckets)

    def _weights(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, weight) of every kept n-gram: sublinear TF (1 + log tf) times IDF, rows L2-normalized
        (what TfidfVectorizer(sublinear_tf=True) computes). Plain NumPy on the kept buckets' counts: on one
        question this is ~10x cheaper than chaining scipy.sparse products (the serving path)."""
        rows, cols, counts = self._counts.counts(texts, len(self.buckets))
        w = (1.0 + np.log(counts.astype(np.float64))) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, w * w, minlength=len(texts)))
        norms[norms == 0] = 1.0
        return rows, cols, w / norms[rows]

    def vectorize(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows, cols, w = self._weights(texts)
        return sp.csr_matrix((w, (rows, cols)), shape=(len(texts), len(self.buckets)))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, np.float64)
        rows, cols, w = self._weights(texts)
        z = np.bincount(rows, w * self.coef[cols].astype(np.float64), minlength=len(texts)) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    @classmethod
    def fit(
        cls, spec: NgramSpec, texts: Sequence[str], y: np.ndarray, weights: np.ndarray, C: float, min_df: int, seed: int
    ) -> NgramLR:
        from sklearn.linear_model import LogisticRegression

        counts = _hasher(spec).transform(list(texts)).tocsc()
        df = np.diff(counts.indptr)  # documents per bucket (counts are >0 where stored)
        buckets = np.flatnonzero(df >= min_df).astype(np.int32)
        n = counts.shape[0]
        idf = (np.log((1.0 + n) / (1.0 + df[buckets])) + 1.0).astype(np.float32)
        unfitted = cls(spec, buckets, idf, np.zeros(len(buckets), np.float32), 0.0)
        x = unfitted.vectorize(texts)  # the same features the serving path computes
        model = LogisticRegression(C=C, max_iter=3000, random_state=seed).fit(x, y, sample_weight=weights)
        return cls(spec, buckets, idf, model.coef_[0].astype(np.float32), float(model.intercept_[0]))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_spec": np.array([self.spec.analyzer, str(self.spec.ngram[0]), str(self.spec.ngram[1]), str(self.spec.n_features)]),
            f"{prefix}_buckets": self.buckets.astype(np.int32),
            f"{prefix}_idf": self.idf.astype(np.float32),
            f"{prefix}_coef": self.coef.astype(np.float32),
            f"{prefix}_intercept": np.array(self.intercept),
        }

    @classmethod
    def from_arrays(cls, prefix: str, data: dict[str, np.ndarray]) -> NgramLR:
        analyzer, lo, hi, nf = (str(s) for s in data[f"{prefix}_spec"])
        return cls(
            NgramSpec(analyzer, (int(lo), int(hi)), int(nf)),
            np.asarray(data[f"{prefix}_buckets"], np.int32),
            np.asarray(data[f"{prefix}_idf"], np.float32),
            np.asarray(data[f"{prefix}_coef"], np.float32),
            float(data[f"{prefix}_intercept"]),
        )
