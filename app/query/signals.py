"""Evidence signals, computed from one retrieval result with no encoder call.

Per candidate sentence (``sentence_table``): what fraction of the question's rare vocabulary it covers
(alone and with its passage's headings), whether it holds the kind of item the question asks for, its
similarity, its passage's rank. Per question (``question_signals``): the best sentences' scores and
item match, passage-level coverage, retriever agreement, the margin to the next guideline.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.query.abstain import LinearModel, Signals
from app.query.answer import Picked
from app.query.asks import (
    FRAMING_WORDS,
    ask_part,
    asked_actions,
    asked_kinds,
    asked_units,
    item_match,
    open_question,
)
from app.query.retrieve import RetrievalResult
from app.query.sections import about_guideline
from app.query.subjects import NO_SUBJECT, subject_signals
from app.query.termcache import DOC_TERMS, ITEMS, NUMBER, TERMS
from ingest.store import LoadedIndex

SENTENCE_FEATURES = [
    "sim", "chunk_sim", "rank_recip", "idf_cov", "idf_cov_ctx", "ask_cov", "item_match", "has_recommend", "has_grade",
    "log_words", "first_in_chunk", "fragment", "about_guideline",
]




@dataclass
class QuestionTerms:
    """What the signals need from the question alone: computed once per request."""

    q_terms: set[str]
    q_idf: dict[str, float]
    total: float
    a_idf: dict[str, float]
    a_total: float
    asked: frozenset[str]
    ask_nums: set[str]
    ask_units: frozenset[str] = frozenset()
    ask_actions: frozenset[str] = frozenset()


def question_terms(idx: LoadedIndex, question: str) -> QuestionTerms:
    bm = idx.bm25
    q_terms = set(bm.terms(question))
    q_idf = {t: bm.idf(t) for t in q_terms}
    ask = ask_part(question)
    a_idf = {t: bm.idf(t) for t in set(bm.terms(ask))}
    return QuestionTerms(q_terms, q_idf, sum(q_idf.values()), a_idf, sum(a_idf.values()), asked_kinds(question), set(NUMBER.findall(ask)),
                         asked_units(question), asked_actions(question))


def _cov(q_idf: dict[str, float], terms: frozenset[str] | set[str], total: float) -> float:
    return sum(w for t, w in q_idf.items() if t in terms) / total if total else 0.0


def sentence_table(
    idx: LoadedIndex, question: str, res: RetrievalResult, pool: list[Picked], qt: QuestionTerms | None = None
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per pool sentence (a row depends on its sentence alone, not on the pool)."""
    qt = qt or question_terms(idx, question)
    q_idf, total, a_idf, a_total, asked = qt.q_idf, qt.total, qt.a_idf, qt.a_total, qt.asked
    by_row = {c.row: (r, c) for r, c in enumerate(res.candidates + res.recommended + res.graded)}
    X = np.zeros((len(pool), len(SENTENCE_FEATURES)), dtype=np.float64)
    for i, p in enumerate(pool):
        sents, heads = TERMS.get(idx, p.row)
        st = sents[p.sent_idx] if p.sent_idx < len(sents) else frozenset()
        rank, cand = by_row.get(p.row, (len(by_row), None))
        items = ITEMS.get(p.text)
        ctx = st | heads
        X[i] = (
            p.sim,
            (cand.dense_sim or 0.0) if cand is not None else 0.0,
            1.0 / (1 + rank),
            _cov(q_idf, st, total),
            _cov(q_idf, ctx, total),
            _cov(a_idf, ctx, a_total),
            item_match(asked, items),
            float("recommend" in items),
            float("grade" in items),
            math.log1p(len(p.text.split())),
            float(p.sent_idx == 0),
            float(p.text.rstrip()[-1:] not in ".!?:)" or p.text[:1].islower()),
            float(about_guideline(idx.chunks[p.row].section_path)),
        )
    return X


def question_signals(
    idx: LoadedIndex, question: str, res: RetrievalResult, pool: list[Picked], rrf_k: int, sentence_model: LinearModel | None,
    *, qt: QuestionTerms | None = None, X: np.ndarray | None = None,
) -> tuple[Signals, np.ndarray]:
    """Question-level signals and each pool sentence's score (log-odds of holding the answer).

    ``qt`` and ``X`` (this pool's ``sentence_table``) may be passed when the caller already has them."""
    qt = qt or question_terms(idx, question)
    if X is None:
        X = sentence_table(idx, question, res, pool, qt)
    scores = score_sentences(X, sentence_model)
    docs = [idx.chunks[p.row].doc_id for p in pool]
    v = passage_signals(idx, res, question, rrf_k, qt)
    v["open_question"] = float(open_question(qt.asked))
    top_doc = docs[int(np.argmax(scores))] if len(scores) else (idx.chunks[res.candidates[0].row].doc_id if res.candidates else "")
    v.update(document_signals(idx, question, top_doc, qt))
    return Signals(summarize(X, docs, scores, v)), scores


@functools.lru_cache(maxsize=8)
def framing_terms(bm: Any) -> frozenset[str]:
    """The stems of asks.FRAMING_WORDS in this index's tokenizer."""
    return frozenset(bm.terms(" ".join(sorted(FRAMING_WORDS))))


def document_signals(idx: LoadedIndex, question: str, doc_id: str, qt: QuestionTerms | None = None) -> dict[str, float]:
    """How much of what the question asks (its last part) the best document mentions anywhere."""
    if not doc_id:
        return dict(NO_DOCUMENT)
    bm = idx.bm25
    qt = qt or question_terms(idx, question)
    framing = framing_terms(bm)  # "what does X say", "cited", "him": not what the question asks about
    a_idf = {t: w for t, w in qt.a_idf.items() if t not in framing}
    total, q_nums = sum(a_idf.values()), qt.ask_nums
    doc = DOC_TERMS.get(idx, doc_id)
    present = {t: t in doc for t in a_idf}  # each term looked up once
    missing = [w for t, w in a_idf.items() if not present[t]]
    return {
        "ask_cov_doc": (sum(w for t, w in a_idf.items() if present[t]) / total) if total else 0.0,
        "ask_missing_doc": max(missing, default=0.0) / bm.max_idf,
        "ask_num_absent": (sum(not doc.has_number(n) for n in q_nums) / len(q_nums)) if q_nums else 0.0,
        # the question asks a value in a unit ("in mEq/L", "how many seconds", "what score") the document never gives one in
        "ask_unit_absent": (sum(not doc.has_value_in(u) for u in qt.ask_units) / len(qt.ask_units)) if qt.ask_units else 0.0,
        # the question asks when or how to do something (stop, start, titrate, taper, switch, refer) the document never names
        "ask_action_absent": (sum(not doc.mentions(a) for a in qt.ask_actions) / len(qt.ask_actions)) if qt.ask_actions else 0.0,
        # the question asks a value (a dose, an age …) or a number in a unit about its subject, and no sentence naming
        # the subject gives one (app/query/subjects.py)
        **subject_signals(doc, a_idf, present, qt.asked, qt.ask_units, ITEMS.get),
    }


NO_DOCUMENT = {"ask_cov_doc": 0.0, "ask_missing_doc": 1.0, "ask_num_absent": 1.0, "ask_unit_absent": 1.0, "ask_action_absent": 1.0,
               **NO_SUBJECT}


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


def passage_signals(idx: LoadedIndex, res: RetrievalResult, question: str, rrf_k: int, qt: QuestionTerms | None = None) -> dict[str, float]:
    cands = res.candidates
    bm = idx.bm25
    qt = qt or question_terms(idx, question)
    q_terms = qt.q_terms
    # The terms of the top passages' texts and titles, and of their headings: the union of each passage's
    # (tokenizing the texts joined by spaces gives the same terms as tokenizing each one).
    top_terms: set[str] = set()
    head_terms: set[str] = set()
    for c in cands[:3]:
        text, title = TERMS.body(idx, c.row)
        top_terms |= text | title
        head_terms |= TERMS.get(idx, c.row)[1]
    d5, b5 = set(res.dense_docs[:5]), set(res.bm25_docs[:5])
    idf = qt.q_idf
    seen = top_terms | head_terms
    missing = [idf[t] for t in q_terms if t not in seen]
    n, total = len(q_terms), qt.total
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
