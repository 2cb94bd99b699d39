"""Evidence signals, computed from one retrieval result with no encoder call.

Per candidate sentence (``sentence_table``): what fraction of the question's rare vocabulary it covers
(alone and with its passage's headings), whether it holds the kind of item the question asks for, its
similarity, its passage's rank. Per question (``question_signals``): the best sentences' scores and
item match, passage-level coverage, retriever agreement, the margin to the next guideline.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict

import numpy as np

from app.query.abstain import LinearModel, Signals
from app.query.answer import Picked
from app.query.asks import ask_part, asked_kinds, item_match, sentence_items
from app.query.retrieve import RetrievalResult
from ingest.store import LoadedIndex

SENTENCE_FEATURES = [
    "sim", "chunk_sim", "rank_recip", "idf_cov", "idf_cov_ctx", "ask_cov", "item_match", "has_recommend", "has_grade",
    "log_words", "first_in_chunk", "fragment",
]
_NUM = re.compile(r"\b\d+(?:\.\d+)?\b")


def cache_key(idx: LoadedIndex) -> str:
    """One loaded index version: two indexes can publish versions of the same name."""
    return f"{idx.root}@{idx.version}"


class _TermCache:
    """Stemmed terms of a chunk's sentences and headings, per (index version, row); bounded."""

    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self._d: OrderedDict[tuple[str, int], tuple[list[frozenset[str]], frozenset[str]]] = OrderedDict()  # (cache_key, row)
        self._lock = threading.Lock()

    def get(self, idx: LoadedIndex, row: int) -> tuple[list[frozenset[str]], frozenset[str]]:
        key = (cache_key(idx), row)
        with self._lock:
            hit = self._d.get(key)
            if hit is not None:
                self._d.move_to_end(key)
                return hit
        ch = idx.chunks[row]
        bm = idx.bm25
        sents = [frozenset(bm.terms(ch.text[s.start : s.end])) for s in ch.sentences]
        heads = frozenset(bm.terms(ch.title + " " + " ".join(ch.section_path)))
        with self._lock:
            self._d[key] = (sents, heads)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return sents, heads


TERMS = _TermCache()


class _DocTerms:
    """Every stemmed term and number of a document (all its chunks and its title), per index version."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._d: OrderedDict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = OrderedDict()
        self._rows: tuple[str, dict[str, list[int]]] = ("", {})
        self._lock = threading.Lock()

    def _doc_rows(self, idx: LoadedIndex) -> dict[str, list[int]]:
        with self._lock:
            if self._rows[0] != cache_key(idx):
                rows: dict[str, list[int]] = {}
                for i, c in enumerate(idx.chunks):
                    if c.citable:  # planted instructions never count as what a guideline says
                        rows.setdefault(c.doc_id, []).append(i)
                self._rows = (cache_key(idx), rows)
            return self._rows[1]

    def get(self, idx: LoadedIndex, doc_id: str) -> tuple[frozenset[str], frozenset[str]]:
        key = (cache_key(idx), doc_id)
        with self._lock:
            hit = self._d.get(key)
            if hit is not None:
                self._d.move_to_end(key)
                return hit
        texts = [idx.chunks[i].text for i in self._doc_rows(idx).get(doc_id, [])]
        title = idx.manifest["documents"].get(doc_id, {}).get("title", "")
        terms = frozenset(idx.bm25.terms(" ".join(texts) + " " + title))
        nums = frozenset(_NUM.findall(" ".join(texts)))
        with self._lock:
            self._d[key] = (terms, nums)
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return terms, nums


DOC_TERMS = _DocTerms()


def _cov(q_idf: dict[str, float], terms: frozenset[str] | set[str], total: float) -> float:
    return sum(w for t, w in q_idf.items() if t in terms) / total if total else 0.0


def sentence_table(idx: LoadedIndex, question: str, res: RetrievalResult, pool: list[Picked]) -> np.ndarray:
    """One row of SENTENCE_FEATURES per pool sentence."""
    bm = idx.bm25
    q_idf = {t: bm.idf(t) for t in set(bm.terms(question))}
    total = sum(q_idf.values())
    a_idf = {t: bm.idf(t) for t in set(bm.terms(ask_part(question)))}
    a_total = sum(a_idf.values())
    asked = asked_kinds(question)
    by_row = {c.row: (r, c) for r, c in enumerate(res.candidates)}
    X = np.zeros((len(pool), len(SENTENCE_FEATURES)), dtype=np.float64)
    for i, p in enumerate(pool):
        sents, heads = TERMS.get(idx, p.row)
        st = sents[p.sent_idx] if p.sent_idx < len(sents) else frozenset()
        rank, cand = by_row.get(p.row, (len(by_row), None))
        items = sentence_items(p.text)
        X[i] = (
            p.sim,
            (cand.dense_sim or 0.0) if cand is not None else 0.0,
            1.0 / (1 + rank),
            _cov(q_idf, st, total),
            _cov(q_idf, st | heads, total),
            _cov(a_idf, st | heads, a_total),
            item_match(asked, items),
            float("recommend" in items),
            float("grade" in items),
            math.log1p(len(p.text.split())),
            float(p.sent_idx == 0),
            float(p.text.rstrip()[-1:] not in ".!?:)" or p.text[:1].islower()),
        )
    return X


def question_signals(
    idx: LoadedIndex, question: str, res: RetrievalResult, pool: list[Picked], rrf_k: int, sentence_model: LinearModel | None
) -> tuple[Signals, np.ndarray]:
    """Question-level signals and each pool sentence's score (log-odds of holding the answer)."""
    X = sentence_table(idx, question, res, pool)
    scores = score_sentences(X, sentence_model)
    docs = [idx.chunks[p.row].doc_id for p in pool]
    v = passage_signals(idx, res, question, rrf_k)
    v["open_question"] = float(not asked_kinds(question))
    top_doc = docs[int(np.argmax(scores))] if len(scores) else (idx.chunks[res.candidates[0].row].doc_id if res.candidates else "")
    v.update(document_signals(idx, question, top_doc))
    return Signals(summarize(X, docs, scores, v)), scores


def document_signals(idx: LoadedIndex, question: str, doc_id: str) -> dict[str, float]:
    """How much of what the question asks (its last part) the best document mentions anywhere."""
    if not doc_id:
        return {"ask_cov_doc": 0.0, "ask_missing_doc": 1.0, "ask_num_absent": 1.0}
    bm = idx.bm25
    ask = ask_part(question)
    a_idf = {t: bm.idf(t) for t in set(bm.terms(ask))}
    terms, nums = DOC_TERMS.get(idx, doc_id)
    total = sum(a_idf.values())
    missing = [w for t, w in a_idf.items() if t not in terms]
    q_nums = set(_NUM.findall(ask))
    return {
        "ask_cov_doc": _cov(a_idf, terms, total),
        "ask_missing_doc": max(missing, default=0.0) / bm.max_idf,
        "ask_num_absent": (len(q_nums - nums) / len(q_nums)) if q_nums else 0.0,
    }


def score_sentences(X: np.ndarray, model: LinearModel | None) -> np.ndarray:
    if not len(X):
        return np.zeros(0)
    return model.logits(X) if model is not None else X[:, SENTENCE_FEATURES.index("sim")]


def summarize(X: np.ndarray, docs: list[str], scores: np.ndarray, v: dict[str, float]) -> dict[str, float]:
    """Add the best sentences' signals to the passage-level ones (shared by serving and calibration)."""
    v = dict(v)
    col = {f: i for i, f in enumerate(SENTENCE_FEATURES)}
    order = np.argsort(-scores, kind="stable")
    if not len(order):
        v.update(s_best=-8.0, s_second=-12.0, best_item_match=0.0, best_idf_cov_ctx=0.0, best_sim=0.0,
                 top3_item_match=0.0, max_idf_cov=0.0, doc_margin=0.0, best_ask_cov=0.0, top3_ask_cov=0.0)
        return v
    b = order[0]
    v["s_best"] = float(scores[b])
    v["s_second"] = float(scores[order[1]]) if len(order) > 1 else float(scores[b]) - 4.0
    v["best_item_match"] = float(X[b, col["item_match"]])
    v["best_idf_cov_ctx"] = float(X[b, col["idf_cov_ctx"]])
    v["best_sim"] = float(X[b, col["sim"]])
    v["top3_item_match"] = float(X[order[:3], col["item_match"]].max())
    v["max_idf_cov"] = float(X[:, col["idf_cov"]].max())
    v["best_ask_cov"] = float(X[b, col["ask_cov"]])
    v["top3_ask_cov"] = float(X[order[:3], col["ask_cov"]].max())
    other = [scores[i] for i in order if docs[i] != docs[b]]
    v["doc_margin"] = float(scores[b] - other[0]) if other else 4.0
    return v


def passage_signals(idx: LoadedIndex, res: RetrievalResult, question: str, rrf_k: int) -> dict[str, float]:
    cands = res.candidates
    bm = idx.bm25
    q_terms = set(bm.terms(question))
    top_terms = set(bm.terms(" ".join(idx.chunks[c.row].text + " " + idx.chunks[c.row].title for c in cands[:3])))
    head_terms = set(bm.terms(" ".join(idx.chunks[c.row].title + " " + " ".join(idx.chunks[c.row].section_path) for c in cands[:3])))
    d5, b5 = set(res.dense_docs[:5]), set(res.bm25_docs[:5])
    idf = {t: bm.idf(t) for t in q_terms}
    seen = top_terms | head_terms
    missing = [idf[t] for t in q_terms if t not in seen]
    n, total = len(q_terms), sum(idf.values())
    return {
        "dense_top": res.dense_top_sim,
        "rrf_top": (cands[0].score * (rrf_k + 1)) if cands else 0.0,
        "agreement": (len(d5 & b5) / len(d5 | b5)) if (d5 | b5) else 0.0,
        "term_coverage": (len(q_terms & top_terms) / n) if n else 0.0,
        "title_coverage": (len(q_terms & head_terms) / n) if n else 0.0,
        "idf_coverage": (sum(idf[t] for t in q_terms if t in seen) / total) if total else 0.0,
        "missing_idf": max(missing, default=0.0) / bm.max_idf,
        "oov_share": (sum(not bm.in_vocab(t) for t in q_terms) / n) if n else 1.0,
        "log_q_terms": math.log1p(n),
    }
