"""The gate's fast path (issue 14) computes exactly what the straightforward one did.

The reference below is the gate as it was before the latency work, kept verbatim in spirit: every
sentence table, passage and document signal recomputed from scratch (whole documents tokenized, the wide
conflict pool scored a second time, no caches). For a sample of questions over the demo index (and the
shared corpus index when GUIDEGROUND_TEST_SHARED_INDEX names one), the served path must give bit-identical
sentence tables, scores, signals, gate decisions and conflicts — with its caches cold and warm — and
retrieval's named-guideline rows and BM25 top-k must equal app.query.named's and a threaded bm25s call's.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest

from app.query.abstain import Signals
from app.query.answer import QUOTABLE, Picked
from app.query.asks import (
    ACTION_MENTION,
    FRAMING_WORDS,
    UNIT_WITH_NUMBER,
    ask_part,
    asked_actions,
    asked_kinds,
    asked_units,
    item_match,
    sentence_items,
)
from app.query.conflicts import SentenceView, find_conflict
from app.query.quotable import GRADE_LABEL, quotable, reference_list, sentence_prior
from app.query.sections import ABOUT_GUIDELINE_HEADING
from app.query.service import QueryService
from app.query.signals import SENTENCE_FEATURES, score_sentences, summarize
from app.query.termcache import DOC_TERMS, ITEMS, TERMS, cache_key
from app.query.versions import superseded_map
from app.settings import Settings

REPO = Path(__file__).resolve().parents[1]
_NUM = re.compile(r"\b\d+(?:\.\d+)?\b")


# ----------------------------------------------------------------------------- reference (pre-issue-14 code)
def ref_candidate_sentences(index, cands, n_chunks, qvec):
    out, taken = [], 0
    for rank, c in enumerate(cands):
        chunk = index.chunks[c.row]
        if taken >= n_chunks:
            break
        taken += 1
        block = index.sentence_block(c.row)
        if block.shape[0] == 0:
            continue
        sims = block @ qvec
        sentences = [] if reference_list([chunk.text[s.start : s.end] for s in chunk.sentences]) else chunk.sentences
        for i, s in enumerate(sentences):
            text = chunk.text[s.start : s.end]
            if i not in chunk.boilerplate and quotable(text):  # an issuer's standard text is never quoted (stop 34)
                end = s.end
                if i + 1 < len(sentences) and GRADE_LABEL.match(chunk.text[sentences[i + 1].start : sentences[i + 1].end]):
                    end = sentences[i + 1].end
                    text = chunk.text[s.start : end]
                prior = sentence_prior(text, chunk.title)
                if prior > -1.0:
                    out.append(Picked(rank, c.row, i, s.start, end, text, float(sims[i]) + prior))
    return out


def _cov(q_idf, terms, total):
    return sum(w for t, w in q_idf.items() if t in terms) / total if total else 0.0


def ref_sentence_table(idx, question, res, pool):
    bm = idx.bm25
    q_idf = {t: bm.idf(t) for t in set(bm.terms(question))}
    total = sum(q_idf.values())
    a_idf = {t: bm.idf(t) for t in set(bm.terms(ask_part(question)))}
    a_total = sum(a_idf.values())
    asked = asked_kinds(question)
    by_row = {c.row: (r, c) for r, c in enumerate(res.candidates + res.recommended + res.graded)}  # graded: after the recommended
    X = np.zeros((len(pool), len(SENTENCE_FEATURES)), dtype=np.float64)
    for i, p in enumerate(pool):
        ch = idx.chunks[p.row]
        sents = [frozenset(bm.terms(ch.text[s.start : s.end])) for s in ch.sentences]
        heads = frozenset(bm.terms(ch.title + " " + " ".join(ch.section_path)))
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
            float(any(ABOUT_GUIDELINE_HEADING.match(h.strip()) for h in ch.section_path)),
        )
    return X


def ref_doc_terms(idx, doc_id):
    rows = [i for i, c in enumerate(idx.chunks) if c.citable and c.doc_id == doc_id]
    texts = [idx.chunks[i].text for i in rows]
    title = idx.manifest["documents"].get(doc_id, {}).get("title", "")
    return frozenset(idx.bm25.terms(" ".join(texts) + " " + title)), frozenset(_NUM.findall(" ".join(texts)))


def ref_document_signals(idx, question, doc_id):
    if not doc_id:
        return {"ask_cov_doc": 0.0, "ask_missing_doc": 1.0, "ask_num_absent": 1.0, "ask_unit_absent": 1.0, "ask_action_absent": 1.0,
                "subject_value_absent": 1.0, "subject_unit_absent": 1.0, "subjects_value_absent": 1.0}
    bm = idx.bm25
    ask = ask_part(question)
    framing = set()
    for w in FRAMING_WORDS:  # each framing word's stems on its own, no cache
        framing |= set(bm.terms(w))
    a_idf = {t: bm.idf(t) for t in set(bm.terms(ask)) if t not in framing}
    terms, nums = ref_doc_terms(idx, doc_id)
    total = sum(a_idf.values())
    missing = [w for t, w in a_idf.items() if t not in terms]
    q_nums = set(_NUM.findall(ask))
    units = asked_units(question)
    actions = asked_actions(question)
    texts = [c.text for c in idx.chunks if c.citable and c.doc_id == doc_id]
    return {
        "ask_cov_doc": _cov(a_idf, terms, total),
        "ask_missing_doc": max(missing, default=0.0) / bm.max_idf,
        "ask_num_absent": (len(q_nums - nums) / len(q_nums)) if q_nums else 0.0,
        "ask_unit_absent": (sum(not any(UNIT_WITH_NUMBER[u].search(t) for t in texts) for u in units) / len(units)) if units else 0.0,
        "ask_action_absent": (sum(not any(ACTION_MENTION[a].search(t) for t in texts) for a in actions) / len(actions)) if actions else 0.0,
        **ref_subject_signals(idx, doc_id, a_idf, terms, asked_kinds(question), units),
    }


def ref_subject_signals(idx, doc_id, a_idf, terms, asked, units):
    """Every sentence of the document tokenized, no posting lists, no cache."""
    kinds = asked & {"age", "interval", "dose", "duration", "threshold", "number"}
    out = {"subject_value_absent": 0.0, "subject_unit_absent": 0.0, "subjects_value_absent": 0.0}
    if not kinds and not units:
        return out
    sents = [c.text[s.start : s.end] for c in idx.chunks if c.citable and c.doc_id == doc_id for s in c.sentences]
    sent_terms = [frozenset(idx.bm25.terms(t)) for t in sents]
    used = [t for t in sorted((t for t in a_idf if t in terms), key=lambda t: (-a_idf[t], t)) if any(t in st for st in sent_terms)]
    subj = used[:2]

    def says(words, holds):
        return any(all(w in st for w in words) and holds(x) for x, st in zip(sents, sent_terms, strict=True))

    specific = kinds - {"number"}
    value = lambda x: "number" in sentence_items(x) and (specific <= sentence_items(x) if specific else item_match(kinds, sentence_items(x)))  # noqa: E731
    if kinds:
        out["subject_value_absent"] = 0.0 if subj and says(subj[:1], value) else 1.0
        if len(subj) == 2:
            out["subjects_value_absent"] = 0.0 if says(subj, value) else 1.0
    if units:
        out["subject_unit_absent"] = 0.0 if subj and says(subj[:1], lambda x: any(UNIT_WITH_NUMBER[u].search(x) for u in units)) else 1.0
    return out


def ref_passage_signals(idx, res, question, rrf_k):
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


def ref_question_signals(idx, question, res, pool, rrf_k, sentence_model):
    X = ref_sentence_table(idx, question, res, pool)
    scores = score_sentences(X, sentence_model)
    docs = [idx.chunks[p.row].doc_id for p in pool]
    v = ref_passage_signals(idx, res, question, rrf_k)
    v["open_question"] = float(not asked_kinds(question))
    top_doc = docs[int(np.argmax(scores))] if len(scores) else (idx.chunks[res.candidates[0].row].doc_id if res.candidates else "")
    v.update(ref_document_signals(idx, question, top_doc))
    return summarize(X, docs, scores, v), scores, X


def ref_decide(gate, idx, question, qvec, res, pool):
    """Gate.decide and Gate.conflict as they were: (answer, reason, confidence, conflict, signals, scores, X, wide, wide scores)."""
    s, model = gate.settings, gate.model
    if not res.candidates:
        return (False, "no_evidence", 0.0, None, None, None, None, None, None)
    sig, scores, X = ref_question_signals(idx, question, res, pool, s.retrieval.rrf_k, model.sentence if model else None)
    ok, conf = (True, None) if model is None else model.should_answer(Signals(sig))
    conflict, wide, wide_scores = None, [], None
    a = s.answer
    if pool and s.abstain.conflict_check:
        quoted = res.candidates[: a.candidate_chunks * 2] + res.recommended  # the top guideline's recommendations last
        wide = ref_candidate_sentences(idx, quoted, len(quoted), qvec)
        scored = model is not None and model.sentence is not None
        if scored:
            _, wide_scores, _ = ref_question_signals(idx, question, res, wide, s.retrieval.rrf_k, model.sentence)
            rel = wide_scores.tolist()
        else:
            rel = [p.sim for p in wide]
        best = max(rel)
        floor = best - a.conflict_margin if scored else max(a.min_sentence_similarity, best * a.relative_sentence_floor)
        if scored and not ok:
            floor = max(floor, s.abstain.conflict_min_score)  # a setting since stop 24 (was -1.5)
        views = [SentenceView(p.row, idx.chunks[p.row].doc_id, p.start, p.end, p.text, r) for p, r in zip(wide, rel, strict=True)]
        superseded = superseded_map(cache_key(idx), idx.manifest["documents"])
        conflict = find_conflict(views, min_sim=floor, question=question, superseded=superseded)
        # Behaviour rules, not latency changes: a disagreement is between guidelines the question asks about (stops 47,
        # 48), and a comparison's named guidelines are compared when the ordinary check finds none (stop 23).
        from app.query.gate import asked_about

        conflict = asked_about(idx, question, res, conflict)
        if conflict is None and res.compared:
            conflict = gate._compared_conflict(idx, question, qvec, res, superseded)
    if not ok:
        if conflict is not None and conf is not None and conf < s.abstain.conflict_min_confidence:
            conflict = None  # a behaviour rule (the passages are not about the question), not a latency change
        answer, reason = False, "conflicting_evidence" if conflict else "weak_evidence"
    elif not pool:
        answer, reason, conflict = False, "unsupported", None
    else:
        answer, reason = True, None
    return (answer, reason, conf, conflict, sig, scores, X, wide, wide_scores)


# ----------------------------------------------------------------------------- the comparison
def _questions(n_clin: int = 24, n_other: int = 10) -> list[str]:
    qs: list[str] = []
    for name in ("evalsets/clinician/test.jsonl", "evalsets/demo_questions.jsonl"):
        f = REPO / name
        if f.is_file():
            qs += [json.loads(x)["question"] for x in f.read_text().splitlines() if x.strip()]
    rnd = random.Random(14)
    pick = rnd.sample(qs, min(n_clin, len(qs)))
    # Numbers in the asked part, a question outside any guideline, one with no known word.
    pick += [
        "Should adults aged 45 to 75 be screened for colorectal cancer every 10 years?",
        "What blood pressure threshold of 130/80 mm Hg defines hypertension in adults?",
        "What dose of 50 mg is recommended for acute pain in opioid-naive patients?",
        "How often should women aged 40 be screened with mammography?",
        "Is 2 doses of the vaccine recommended for adults 19 years or older?",
        "What is the capital of France?",
        "zzqx vvbrt?",
        "Depression screening in adolescents: which grade did the USPSTF give it?",
        "What does the 2016 CDC guideline say about opioid dosing for acute pain?",
        "Per the VA/DoD guideline, how long should an antidepressant be continued?",
    ][:n_other]
    return pick


def _clear_caches() -> None:
    TERMS.clear()
    ITEMS.clear()
    DOC_TERMS.clear()
    QUOTABLE.clear()


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is not None and b is not None and a.shape == b.shape and np.array_equal(a, b)
    return a == b


def _compare(svc: QueryService, questions: list[str]) -> int:
    """Compare the served gate with the reference on each question; returns how many questions had a conflict."""
    from app.query import gate as gate_mod

    n_conflicts = 0
    for warm in (False, True):
        if not warm:
            _clear_caches()
        for q in questions:
            res, idx, pool = svc.explain(q)
            qvec = svc.embed_query(q)
            # The gate reads the pool but the graded statements retrieval added for the answer (scored after it decides).
            graded = res.graded_rows()
            read = [p for p in pool if p.row not in graded]
            ref = ref_decide(svc.gate, idx, q, qvec, res, copy.deepcopy(read))
            # The served path, with the narrow table and the wide pool captured where it computes them.
            seen: dict = {}
            orig_qs, orig_table = gate_mod.question_signals, gate_mod.sentence_table

            def spy_qs(*a, _seen=seen, _qs=orig_qs, _table=orig_table, **k):
                sig, scores = _qs(*a, **k)
                _seen["X"] = k.get("X") if k.get("X") is not None else _table(a[0], a[1], a[2], a[3])
                _seen["scores"] = scores
                return sig, scores

            def spy_table(*a, _seen=seen, _table=orig_table, _graded=graded, **k):
                X = _table(*a, **k)
                # the first table built is the wide pool's: not the graded statements' own scoring, nor the named
                # guidelines' passages a comparison question's check reads after it
                if "wide" not in _seen and not (a[3] and all(p.row in _graded for p in a[3])):
                    _seen["wide"], _seen["wide_X"] = a[3], X
                return X

            gate_mod.question_signals, gate_mod.sentence_table = spy_qs, spy_table
            try:
                new_pool = copy.deepcopy(pool)
                dec = svc.gate.decide(idx, q, qvec, res, new_pool)
            finally:
                gate_mod.question_signals, gate_mod.sentence_table = orig_qs, orig_table
            answer, reason, conf, conflict, sig, scores, X, wide, wide_scores = ref
            where = f"{q!r} ({'warm' if warm else 'cold'} caches)"
            assert (dec.answer, dec.reason) == (answer, reason), where
            assert dec.confidence == conf, where
            assert dec.conflict == conflict, where
            if sig is None:
                continue
            assert dec.signals is not None and dec.signals.values == sig, where  # every signal, bit for bit
            assert _same(seen["X"], X), where
            assert _same(seen["scores"], scores), where
            if scores is not None and svc.gate.model is not None and svc.gate.model.sentence is not None:
                assert [p.score for p in new_pool if p.row not in graded] == scores.tolist(), where
                extra = [p for p in new_pool if p.row in graded]
                if extra:
                    ref_extra = score_sentences(ref_sentence_table(idx, q, res, extra), svc.gate.model.sentence)
                    assert _same(np.array([p.score for p in extra]), ref_extra), where
            if wide:
                assert [(p.row, p.sent_idx, p.sim, p.text) for p in seen["wide"]] == [(p.row, p.sent_idx, p.sim, p.text) for p in wide], where
                if wide_scores is not None:
                    assert _same(score_sentences(seen["wide_X"], svc.gate.model.sentence), wide_scores), where
                    assert _same(seen["wide_X"], ref_sentence_table(idx, q, res, wide)), where
            n_conflicts += conflict is not None
    return n_conflicts


def _doc_membership(idx, questions: list[str]) -> None:
    """Document-level term and number look-ups equal the whole document's term set, for every document."""
    bm = idx.bm25
    probe: set[str] = set()
    for q in questions:
        probe |= set(bm.terms(q))
    docs = sorted({c.doc_id for c in idx.chunks})
    rnd = random.Random(3)
    for doc_id in rnd.sample(docs, min(40, len(docs))):
        terms, nums = ref_doc_terms(idx, doc_id)
        d = DOC_TERMS.get(idx, doc_id)
        sample = set(rnd.sample(sorted(terms), min(60, len(terms))))
        for t in probe | sample:
            assert (t in d) == (t in terms), (doc_id, t)
        for n in list(nums)[:20] + ["1", "10", "45", "75", "130", "2.5", "999999"]:
            assert d.has_number(n) == (n in nums), (doc_id, n)


def _retrieval_parts(idx, questions: list[str], min_named: int = 0) -> None:
    """The named documents' rows and BM25's top-k are what app.query.named and a threaded bm25s call give (ties in row order)."""
    from app.query import named
    from app.query.retrieve import _named_rows

    named._cache.clear()
    n_named = 0
    for q in questions:
        a, b = _named_rows(idx, q), named.named_rows(idx, q)
        assert (a is None) == (b is None), q
        if a is not None:
            n_named += 1
            assert a.dtype == b.dtype and np.array_equal(a, b), q
        toks = idx.bm25.tokenize_query(q)
        if toks:
            ids, scores = idx.bm25.search(q, 50)
            # bm25s's own (threaded) scoring of every row, ranked by score and then row (ties: ingest.bm25.top_positive)
            ref = idx.bm25._retriever.retrieve([toks], k=idx.bm25.n_docs, show_progress=False, n_threads=1)
            r_ids, r_sc = np.asarray(ref[0][0], dtype=np.int64), np.asarray(ref[1][0], dtype=np.float32)
            order = [i for i in np.lexsort((r_ids, -r_sc)).tolist() if r_sc[i] > 0][:50]
            assert np.array_equal(ids, r_ids[order]) and np.array_equal(scores, r_sc[order]), q
    assert n_named >= min_named


def _service(root: Path, embedder, tmp_path_factory) -> QueryService:
    s = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{tmp_path_factory.mktemp('lat')}/a.db"})
    return QueryService.from_settings(s, index_dir=root, embedder=embedder)


def test_gate_fast_path_matches_reference_on_demo_index(demo_index, embedder, tmp_path_factory):
    svc = _service(demo_index[0], embedder, tmp_path_factory)
    assert svc.gate.model is not None and svc.gate.model.sentence is not None  # the shipped calibration
    qs = _questions()
    _compare(svc, qs)
    _doc_membership(svc.holder.get(), qs)
    _retrieval_parts(svc.holder.get(), qs)


@pytest.mark.slow
def test_gate_fast_path_matches_reference_on_shared_index(shared_index, embedder, tmp_path_factory):
    svc = _service(shared_index[0], embedder, tmp_path_factory)
    qs = _questions(24, 10)
    n_conflicts = _compare(svc, qs)
    assert n_conflicts >= 1  # the wide pool's scores decided something
    _doc_membership(svc.holder.get(), qs)
    _retrieval_parts(svc.holder.get(), qs, min_named=2)  # the CDC and VA/DoD questions name guidelines
