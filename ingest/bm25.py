"""BM25 over chunk texts with bm25s + PyStemmer; tokenizer settings are persisted with the index."""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict


class Bm25Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "lucene"
    k1: float = 1.2
    b: float = 0.75
    lower: bool = True
    token_pattern: str = r"(?u)\b\w\w+\b"
    stopwords: str = "en"
    stemmer: str | None = "english"


def _stemmer(lang: str | None):
    if not lang:
        return None
    import Stemmer

    return Stemmer.Stemmer(lang).stemWords


class Bm25Index:
    def __init__(self, retriever, params: Bm25Params) -> None:
        self._retriever = retriever
        self.params = params
        self._stem = _stemmer(params.stemmer)
        self._vocab: dict[str, int] = retriever.vocab_dict
        self.n_docs = int(retriever.scores["num_docs"])
        self._df: np.ndarray | None = None
        self._fast: tuple | None = None
        self._sorted: list[str] | None = None

    def idf(self, term: str) -> float:
        """BM25 (Lucene) IDF of a stemmed term; a term no chunk contains gets the maximum."""
        if self._df is None:
            self._df = np.diff(np.asarray(self._retriever.scores["indptr"]))
        tid = self._vocab.get(term)
        df = int(self._df[tid]) if tid is not None and tid < len(self._df) else 0
        return float(np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5)))

    @classmethod
    def build(cls, texts: list[str], params: Bm25Params | None = None) -> Bm25Index:
        import bm25s

        params = params or Bm25Params()
        tokens = bm25s.tokenize(
            texts,
            lower=params.lower,
            token_pattern=params.token_pattern,
            stopwords=params.stopwords,
            stemmer=_stemmer(params.stemmer),
            show_progress=False,
        )
        retriever = bm25s.BM25(method=params.method, k1=params.k1, b=params.b)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, params)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(directory), show_progress=False)
        (directory / "tokenizer.json").write_text(self.params.model_dump_json(indent=2))

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        import bm25s

        params = Bm25Params.model_validate_json((directory / "tokenizer.json").read_text())
        retriever = bm25s.BM25.load(str(directory), mmap=False, show_progress=False, verbosity=0)
        return cls(retriever, params)

    def terms(self, text: str) -> list[str]:
        """Stemmed, stopword-free terms of a text with this index's tokenizer (not restricted to the vocabulary).

        Same output as ``bm25s.tokenize`` with the persisted settings, at about a twentieth of its cost
        per call (it is called for every candidate sentence of every query).
        """
        if self._fast is None:
            import re

            from bm25s.stopwords import STOPWORDS_EN

            if self.params.stopwords not in ("en", "english", None, ""):
                raise ValueError(f"unsupported stopwords setting {self.params.stopwords!r}")
            stop = frozenset(STOPWORDS_EN) if self.params.stopwords else frozenset()
            self._fast = (re.compile(self.params.token_pattern), stop)
        rx, stop = self._fast
        toks = [w for w in rx.findall(text.lower() if self.params.lower else text) if w not in stop]
        return self._stem(toks) if self._stem else toks

    def rows_with(self, term: str) -> np.ndarray:
        """Row ids whose indexed text contains this (stemmed) term (its posting list; empty if no row does)."""
        tid = self._vocab.get(term)
        sc = self._retriever.scores
        indptr = sc["indptr"]
        if tid is None or tid + 1 >= len(indptr):
            return np.zeros(0, dtype=np.int64)
        return np.asarray(sc["indices"][indptr[tid] : indptr[tid + 1]])

    def has_prefix(self, prefix: str) -> bool:
        """Whether some chunk contains a (stemmed) term that starts with ``prefix``."""
        if self._sorted is None:
            self._sorted = sorted(self._vocab)
        i = bisect.bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)

    def in_vocab(self, term: str) -> bool:
        """Whether some chunk contains this (stemmed) term."""
        return term in self._vocab

    @property
    def max_idf(self) -> float:
        """The IDF of a term no chunk contains (the largest possible)."""
        return float(np.log(1.0 + (self.n_docs + 0.5) / 0.5)) or 1.0

    def tokenize_query(self, query: str) -> list[str]:
        return [t for t in self.terms(query) if t in self._vocab]

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (row ids, scores); rows with score 0 are dropped. ``mask`` is a 0/1 weight per row."""
        scores = self.scores_for(query, mask)
        ids = top_positive(scores, min(k, self.n_docs))
        return ids, scores[ids]

    def scores_for(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """Every row's BM25 score for the query (times ``mask``); zeros when no query term is indexed."""
        toks = self.tokenize_query(query)
        if not toks or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(toks, weight_mask=mask), dtype=np.float32)



def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` highest positive scores, best first; equal scores in row order.

    bm25s selects with ``np.argpartition`` over every row, which takes ≈ 6 ms on 50k rows when most scores are
    0 (a question of common words) against ≈ 0.1 ms over the rows that score at all (bench: docs/benchmarks.md)."""
    rows = np.flatnonzero(scores > 0)
    if len(rows) > k:
        vals = scores[rows]
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        above, tied = rows[vals > kth], rows[vals == kth]
        rows = np.concatenate([above, tied[: k - len(above)]])
    return rows[np.lexsort((rows, -scores[rows]))].astype(np.int64)
