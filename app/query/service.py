"""The query core: screen → embed → retrieve → conflict check → abstain gate → extract → verify.

No FastAPI, SQLAlchemy or CLI here: the API and the CLI call :meth:`QueryService.answer`, and
evaluation calls the very same method.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import NotFound, UsageError
from app.query.abstain import AbstainModel, Signals
from app.query.answer import Picked, candidate_sentences, mmr_select
from app.query.conflicts import SentenceView, find_conflict
from app.query.retrieve import Candidate, HybridRetriever, RetrievalResult
from app.query.schemas import (
    AnswerSentence,
    ChunkOut,
    Citation,
    GuidelineOut,
    GuidelinesOut,
    QueryRequest,
    QueryResponse,
    Timings,
)
from app.query.verify import SupportChecker, get_support_checker
from app.settings import Settings
from ingest.embed import Embedder, get_embedder
from ingest.store import LoadedIndex, current_version, load_version

log = logging.getLogger("guideground.query")

MESSAGES = {
    "no_evidence": "No passage in the indexed guidelines matches this question.",
    "weak_evidence": "The indexed guidelines do not clearly answer this question; the closest passages are attached.",
    "unsupported": "No sentence in the retrieved passages could be verified as answering this question.",
    "conflicting_evidence": "Guidelines in the index give different numbers for this; both passages are attached.",
    "out_of_scope": "This question is outside the scope of the indexed guidelines.",
}


class IndexHolder:
    """Serves one loaded version; notices a newly published version and swaps it in.

    Requests take a reference with :meth:`get` and keep it for their whole life, so in-flight
    queries finish on the version they started with while new ones see the new version.
    """

    def __init__(self, root: Path, check_every: float = 2.0, expect: tuple[str, int] | None = None) -> None:
        self.root = Path(root)
        self.check_every = check_every
        self.expect = expect
        self._lock = threading.Lock()
        self._index: LoadedIndex = load_version(self.root, expect_embedder=expect)
        self._checked = time.monotonic()

    @property
    def version(self) -> str:
        return self._index.version

    def get(self) -> LoadedIndex:
        if time.monotonic() - self._checked >= self.check_every:
            self.reload_if_changed()
        return self._index

    def reload_if_changed(self) -> bool:
        with self._lock:
            self._checked = time.monotonic()
            cur = current_version(self.root)
            if cur is None or cur == self._index.version:
                return False
            try:
                new = load_version(self.root, cur, expect_embedder=self.expect)
            except Exception as exc:  # keep serving the old version
                log.error("cannot load new index version %s: %s", cur, exc)
                return False
            old = self._index.version
            self._index = new
            log.info("index reloaded: %s → %s", old, cur)
            return True


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._d: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return v

    def put(self, key: str, value: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


class QueryService:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        holder: IndexHolder,
        abstain_model: AbstainModel | None = None,
        screen: Any = None,
        checker: SupportChecker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.holder = holder
        self.abstain_model = abstain_model
        self.screen = screen
        self.checker = checker or get_support_checker()
        r = settings.retrieval
        self.retriever = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, r.mode, r.near_duplicate_threshold, r.bm25_weight)
        self.cache = _LRU(r.query_cache_size)

    @classmethod
    def from_settings(cls, settings: Settings, index_dir: Path | None = None, embedder: Embedder | None = None) -> QueryService:
        embedder = embedder or get_embedder(settings.ingest.embedding)
        holder = IndexHolder(index_dir or settings.index.dir, settings.server.reload_check_seconds, (embedder.model_id, embedder.dim))
        model = AbstainModel.load(settings.abstain.calibration_file) if settings.abstain.enabled else None
        screen = None
        if settings.safety.enabled:
            from app.safety.screen import RequestScreen

            screen = RequestScreen.load(settings.safety.screen_file, embedder_id=embedder.model_id, dim=embedder.dim)
        return cls(settings, embedder, holder, model, screen)

    # ------------------------------------------------------------------ helpers
    def embed_query(self, question: str) -> np.ndarray:
        v = self.cache.get(question)
        if v is None:
            v = self.embedder.embed([question])[0]
            self.cache.put(question, v)
        return v

    def _check_limits(self, req: QueryRequest) -> int:
        lim = self.settings.limits
        if len(req.question) > lim.max_question_chars:
            raise UsageError(
                f"question is {len(req.question)} characters; the limit is {lim.max_question_chars}",
                hint="shorten the question or raise GUIDEGROUND_LIMITS__MAX_QUESTION_CHARS",
            )
        top_k = req.top_k or self.settings.retrieval.top_k
        if top_k > lim.max_top_k:
            raise UsageError(f"top_k={top_k} exceeds the limit of {lim.max_top_k}", hint="ask for fewer passages")
        return top_k

    def _citation(self, idx: LoadedIndex, n: int, c: Candidate, start: int, end: int) -> Citation:
        ch = idx.chunks[c.row]
        return Citation(
            n=n,
            chunk_id=ch.chunk_id,
            doc_id=ch.doc_id,
            title=ch.title,
            issuer=ch.issuer,
            version=ch.version or ch.published,
            section_path=ch.section_path,
            page=ch.page,
            start=start,
            end=end,
            quote=ch.text[start:end],
            score=round(c.score, 6),
        )

    def signals(self, idx: LoadedIndex, res: RetrievalResult, question: str, pool: list[Picked]) -> Signals:
        cands = res.candidates
        top = cands[0] if cands else None
        q_terms = set(_raw_terms(idx, question))
        top_text = " ".join(idx.chunks[c.row].text + " " + idx.chunks[c.row].title for c in cands[:3])
        top_terms = set(_raw_terms(idx, top_text))
        vocab = idx.bm25._vocab
        heads = " ".join(idx.chunks[c.row].title + " " + " ".join(idx.chunks[c.row].section_path) for c in cands[:3])
        head_terms = set(_raw_terms(idx, heads))
        d5, b5 = set(res.dense_docs[:5]), set(res.bm25_docs[:5])
        # IDF-weighted coverage: a missing disease or drug name weighs more than a missing "treatment".
        idf = {t: idx.bm25.idf(t) for t in q_terms}
        max_idf = float(np.log(1.0 + (idx.bm25.n_docs + 0.5) / 0.5)) or 1.0
        seen = top_terms | head_terms
        missing = [idf[t] for t in q_terms if t not in seen]
        return Signals(
            dense_top=res.dense_top_sim,
            rrf_top=(top.score * (self.settings.retrieval.rrf_k + 1)) if top else 0.0,
            agreement=(len(d5 & b5) / len(d5 | b5)) if (d5 | b5) else 0.0,
            term_coverage=(len(q_terms & top_terms) / len(q_terms)) if q_terms else 0.0,
            oov_share=(sum(t not in vocab for t in q_terms) / len(q_terms)) if q_terms else 1.0,
            best_sentence=max((p.sim for p in pool), default=0.0),
            bm25_top_norm=res.bm25_top_score / max(1, res.n_query_terms),
            title_coverage=(len(q_terms & head_terms) / len(q_terms)) if q_terms else 0.0,
            idf_coverage=(sum(idf[t] for t in q_terms if t in seen) / sum(idf.values())) if q_terms else 0.0,
            missing_idf=(max(missing, default=0.0) / max_idf),
        )

    # ------------------------------------------------------------------ main path
    def answer(self, req: QueryRequest) -> QueryResponse:
        t_start = time.perf_counter()
        top_k = self._check_limits(req)
        timings = Timings()
        question = req.question

        if self.settings.safety.enabled and self.settings.safety.injection_screen:
            from app.safety.injection import screen_injection

            dec = screen_injection(question)
            if dec.refused:
                timings.total = _ms(t_start)
                return QueryResponse(status="refused", reason="unsafe_request", category=dec.category, message=dec.message, timings_ms=timings)

        t = time.perf_counter()
        qvec = self.embed_query(question)
        timings.embed = _ms(t)

        if self.screen is not None:
            dec = self.screen.decide(question, qvec)
            if dec.refused:
                timings.total = _ms(t_start)
                return QueryResponse(status="refused", reason="unsafe_request", category=dec.category, message=dec.message, timings_ms=timings)

        idx = self.holder.get()  # pinned for the rest of this request
        t = time.perf_counter()
        res = self.retriever.retrieve(idx, qvec, question, top_k, req.filters)
        timings.retrieve = _ms(t)

        t = time.perf_counter()
        a = self.settings.answer
        pool = candidate_sentences(idx, res.candidates, a.candidate_chunks, qvec)
        sig = self.signals(idx, res, question, pool)
        resp = self._decide(idx, req, qvec, res, pool, sig, top_k, timings)
        timings.answer = round(_ms(t) - timings.verify, 3)
        timings.total = _ms(t_start)
        resp.timings_ms = timings
        resp.index_version = idx.version
        return resp

    def _abstain(self, idx: LoadedIndex, res: RetrievalResult, reason: str, top_k: int, confidence: float | None, extra: list[Citation] | None = None) -> QueryResponse:
        cites = extra or [
            self._citation(idx, i + 1, c, 0, len(idx.chunks[c.row].text)) for i, c in enumerate(res.candidates[:top_k])
        ]
        return QueryResponse(
            status="abstained",
            reason=reason,  # type: ignore[arg-type]
            message=MESSAGES[reason],
            citations=cites,
            confidence=None if confidence is None else round(confidence, 4),
        )

    def _decide(
        self, idx, req, qvec: np.ndarray, res: RetrievalResult, pool: list[Picked], sig: Signals, top_k: int, timings: Timings
    ) -> QueryResponse:
        if not res.candidates:
            return self._abstain(idx, res, "no_evidence", top_k, 0.0)
        conf: float | None = None
        ok = True
        if self.abstain_model is not None:
            ok, conf = self.abstain_model.should_answer(sig)
        a = self.settings.answer
        by_row = {c.row: c for c in res.candidates}
        # Conflicts are checked before the weak-evidence gate: both abstain, but two guidelines that
        # disagree on a number is the more specific (and more useful) reason, with both passages.
        if pool and self.settings.abstain.conflict_check:
            best = max(p.sim for p in pool)
            # Look a little deeper than the quoted passages: the disagreeing guideline may rank 4th.
            wide = candidate_sentences(idx, res.candidates, a.candidate_chunks * 2, qvec)  # the vector already computed
            views = [SentenceView(p.row, idx.chunks[p.row].doc_id, p.start, p.end, p.text, p.sim) for p in wide]
            conflict = find_conflict(
                views, min_sim=max(a.min_sentence_similarity, best * a.relative_sentence_floor), question=req.question
            )
            if conflict is not None:
                cites = [
                    self._citation(idx, 1, by_row[conflict.a_row], *conflict.a_span),
                    self._citation(idx, 2, by_row[conflict.b_row], *conflict.b_span),
                ]
                return self._abstain(idx, res, "conflicting_evidence", top_k, conf, extra=cites)
        if not ok:
            return self._abstain(idx, res, "weak_evidence", top_k, conf)
        if not pool:
            return self._abstain(idx, res, "unsupported", top_k, conf)

        chosen = mmr_select(idx, pool, a.max_sentences, a.mmr_lambda, a.min_sentence_similarity, a.relative_sentence_floor)
        t = time.perf_counter()
        sentences: list[AnswerSentence] = []
        citations: list[Citation] = []
        for p in chosen:
            chunk = idx.chunks[p.row]
            quote = chunk.text[p.start : p.end]
            if quote != p.text or not chunk.citable or not self.checker.supports(quote, p.text):
                log.warning("dropping unverifiable sentence from %s", chunk.chunk_id)
                continue
            n = len(citations) + 1
            citations.append(self._citation(idx, n, by_row[p.row], p.start, p.end))
            sentences.append(AnswerSentence(text=p.text, citations=[n]))
        timings.verify = _ms(t)
        if not sentences:
            return self._abstain(idx, res, "unsupported", top_k, conf)
        return QueryResponse(
            status="answered",
            answer=" ".join(s.text for s in sentences),
            sentences=sentences,
            citations=citations,
            confidence=None if conf is None else round(conf, 4),
        )

    # ------------------------------------------------------------------ lookups
    def get_chunk(self, chunk_id: str) -> ChunkOut:
        idx = self.holder.get()
        row = idx.by_id.get(chunk_id)
        if row is None:
            raise NotFound(f"no chunk '{chunk_id}' in index version {idx.version}", hint="chunk ids come from citations")
        c = idx.chunks[row]
        return ChunkOut(
            chunk_id=c.chunk_id, doc_id=c.doc_id, title=c.title, issuer=c.issuer, published=c.published,
            version=c.version, section_path=c.section_path, pages=c.pages, start=c.start, end=c.end,
            text=c.text, flags=c.flags, index_version=idx.version,
        )

    def guidelines(self) -> GuidelinesOut:
        idx = self.holder.get()
        docs = idx.manifest["documents"]
        return GuidelinesOut(
            index_version=idx.version,
            guidelines=[
                GuidelineOut(
                    doc_id=d_id, title=d["title"], issuer=d.get("issuer", ""), published=d.get("published", ""),
                    version=d.get("version", ""), url=d.get("url", ""), n_chunks=d.get("n_chunks", 0), format=d.get("format", ""),
                )
                for d_id, d in sorted(docs.items())
            ],
        )

    def explain(self, question: str) -> tuple[Signals, RetrievalResult, LoadedIndex]:
        """Signals for one question (used by calibration); no screen, no abstention."""
        idx = self.holder.get()
        qvec = self.embed_query(question)
        res = self.retriever.retrieve(idx, qvec, question, self.settings.retrieval.top_k, None)
        pool = candidate_sentences(idx, res.candidates, self.settings.answer.candidate_chunks, qvec)
        return self.signals(idx, res, question, pool), res, idx


def _raw_terms(idx: LoadedIndex, text: str) -> list[str]:
    """Stemmed, stopword-free terms (not restricted to the index vocabulary)."""
    import bm25s

    p = idx.bm25.params
    return bm25s.tokenize(
        [text], lower=p.lower, token_pattern=p.token_pattern, stopwords=p.stopwords, stemmer=idx.bm25._stem,
        return_ids=False, show_progress=False,
    )[0]
