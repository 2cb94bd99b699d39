"""Evidence signals for the abstention gate, computed from one retrieval result (no encoder call)."""

from __future__ import annotations

from app.query.abstain import Signals
from app.query.answer import Picked
from app.query.retrieve import RetrievalResult
from ingest.store import LoadedIndex


def compute_signals(idx: LoadedIndex, res: RetrievalResult, question: str, pool: list[Picked], rrf_k: int) -> Signals:
    cands = res.candidates
    top = cands[0] if cands else None
    bm = idx.bm25
    q_terms = set(bm.terms(question))
    top_text = " ".join(idx.chunks[c.row].text + " " + idx.chunks[c.row].title for c in cands[:3])
    top_terms = set(bm.terms(top_text))
    heads = " ".join(idx.chunks[c.row].title + " " + " ".join(idx.chunks[c.row].section_path) for c in cands[:3])
    head_terms = set(bm.terms(heads))
    d5, b5 = set(res.dense_docs[:5]), set(res.bm25_docs[:5])
    # IDF-weighted coverage: a missing disease or drug name weighs more than a missing "treatment".
    idf = {t: bm.idf(t) for t in q_terms}
    seen = top_terms | head_terms
    missing = [idf[t] for t in q_terms if t not in seen]
    n = len(q_terms)
    return Signals(
        dense_top=res.dense_top_sim,
        rrf_top=(top.score * (rrf_k + 1)) if top else 0.0,
        agreement=(len(d5 & b5) / len(d5 | b5)) if (d5 | b5) else 0.0,
        term_coverage=(len(q_terms & top_terms) / n) if n else 0.0,
        oov_share=(sum(not bm.in_vocab(t) for t in q_terms) / n) if n else 1.0,
        best_sentence=max((p.sim for p in pool), default=0.0),
        bm25_top_norm=res.bm25_top_score / max(1, res.n_query_terms),
        title_coverage=(len(q_terms & head_terms) / n) if n else 0.0,
        idf_coverage=(sum(idf[t] for t in q_terms if t in seen) / sum(idf.values())) if n and sum(idf.values()) else 0.0,
        missing_idf=(max(missing, default=0.0) / bm.max_idf),
    )
