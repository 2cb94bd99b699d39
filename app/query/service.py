"""The query core: screen → retrieve → gate → generate → verify, each stage its own module.

No FastAPI, SQLAlchemy or CLI here: the API and the CLI call :meth:`QueryService.answer`, and
evaluation calls the very same method.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import NotFound, UsageError
from app.query.abstain import AbstainModel
from app.query.answer import Picked, candidate_sentences
from app.query.context import GenerationInput, Passage, VerifiedSentence
from app.query.coverage import unanswered_items, unindexed_terms, unmatched_terms
from app.query.gate import Gate
from app.query.generate import ExtractiveGenerator, Generator, get_generator
from app.query.generate.run import run_generation
from app.query.holder import IndexHolder, QueryCache
from app.query.respond import abstained, answered, citation, refused
from app.query.retrieve import Candidate, HybridRetriever, RetrievalResult
from app.query.schemas import (
    AnswerSentence,
    ChunkOut,
    Citation,
    GenerationStats,
    GuidelineOut,
    GuidelinesOut,
    QueryRequest,
    QueryResponse,
    ReadAs,
    Timings,
)
from app.query.screen import Screen
from app.query.spelling import Reading
from app.query.spelling import correct as read_question
from app.query.verify import SupportChecker, Verifier
from app.settings import Settings
from ingest.embed import Embedder, get_embedder
from ingest.store import LoadedIndex


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


OnSentence = Callable[[AnswerSentence, list[Citation]], None]


class QueryService:
    """One request's path: screen → retrieve → gate → generate → verify → response (each stage one module)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        holder: IndexHolder,
        abstain_model: AbstainModel | None = None,
        screen: Any = None,
        checker: SupportChecker | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.holder = holder
        self.abstain_model = abstain_model
        self.screen = Screen(settings.safety, screen)
        self.gate = Gate(settings, abstain_model)
        self.generator = generator or get_generator(settings)
        self.fallback = ExtractiveGenerator(settings.answer)  # when a model server fails
        self.verifier = Verifier(checker)
        r = settings.retrieval
        self.retriever = HybridRetriever(r.dense_k, r.bm25_k, r.rrf_k, r.mode, r.near_duplicate_threshold, r.bm25_weight, r.recommended_chunks, r.graded_chunks,
                                         r.scope_chunks, r.compared_graded_chunks)
        self.cache = QueryCache(r.query_cache_size)

    @classmethod
    def from_settings(cls, settings: Settings, index_dir: Path | None = None, embedder: Embedder | None = None) -> QueryService:
        embedder = embedder or get_embedder(settings.ingest.embedding)
        holder = IndexHolder(index_dir or settings.index.dir, settings.server.reload_check_seconds, (embedder.model_id, embedder.dim))
        model = AbstainModel.load(settings.abstain.calibration_file) if settings.abstain.enabled else None
        screen: Any = None
        if settings.safety.enabled:
            from app.safety.screen import RequestScreen

            screen = RequestScreen.load(settings.safety.screen_file, embedder_id=embedder.model_id, dim=embedder.dim)
            if settings.safety.pairs_member:
                from app.safety.member import ScreenWithMember

                member = RequestScreen.load(settings.safety.pairs_member_file, embedder_id=embedder.model_id, dim=embedder.dim)
                screen = ScreenWithMember(screen, member)
        return cls(settings, embedder, holder, model, screen)

    # ------------------------------------------------------------------ main path
    def answer(self, req: QueryRequest, on_sentence: OnSentence | None = None) -> QueryResponse:
        """The answer; with ``on_sentence``, each sentence is also announced as soon as it passed verification."""
        t_start = time.perf_counter()
        top_k = self._check_limits(req)
        timings = Timings()

        t = time.perf_counter()
        qvec = self.embed_query(req.question)
        timings.embed = _ms(t)

        refusal = self.screen.check(req.question, qvec)
        if refusal is not None:
            return self._finish(refused(refusal), None, timings, t_start)

        idx = self.holder.get()  # pinned for the rest of this request
        question, readings = read_question(idx, req.question) if self.settings.retrieval.read_slips else (req.question, [])
        if readings:
            t = time.perf_counter()
            qvec = self.embed_query(question)
            timings.embed += _ms(t)
        t = time.perf_counter()
        res = self.retriever.retrieve(idx, qvec, question, top_k, req.filters)
        timings.retrieve = _ms(t)

        t = time.perf_counter()
        inp = self._generation_input(idx, question, qvec, res)
        gate = self.gate.decide(idx, question, qvec, res, inp.pool)
        if not gate.answer:
            timings.answer = _ms(t)
            resp = abstained(idx, res, gate, top_k, inp.pool, self.settings.answer.closest_sentences, req.question)
            return self._finish(self._disclose(resp, idx, question, readings), idx, timings, t_start)

        if gate.conflict is not None:  # the disagreeing guideline may rank below the quoted passages
            self._add_passages(inp, res, [gate.conflict.a_row, gate.conflict.b_row])
        if res.scoped:  # "does the statement cover her?": the guideline's own words on whom it applies to
            self._add_scope(inp, res, res.scoped)
        gen = run_generation(self.generator, self.fallback, self.verifier, inp, self._announcer(inp, on_sentence), stream=on_sentence is not None)
        timings.answer = round(_ms(t) - gen.verify_ms, 3)
        timings.verify = gen.verify_ms
        verified = gen.verified
        if not verified.sentences:
            gate.reason = "unsupported"
            resp = abstained(idx, res, gate, top_k, inp.pool, self.settings.answer.closest_sentences, req.question)
        else:
            resp = answered(inp, verified, gate.confidence, self.verifier, gate.conflict)
        resp.generation = GenerationStats(generator=gen.generator, kept=verified.kept, repaired=verified.repaired, dropped=verified.dropped)
        return self._finish(self._disclose(resp, idx, question, readings), idx, timings, t_start)

    # ------------------------------------------------------------------ stage helpers
    def _announcer(self, inp: GenerationInput, on_sentence: OnSentence | None) -> Callable[[VerifiedSentence], None] | None:
        """Verified sentence → (AnswerSentence, its citations), numbered as the final response numbers them."""
        if on_sentence is None:
            return None
        cites: dict[tuple[int, int, int], Citation] = {}

        def announce(v: VerifiedSentence) -> None:
            for span in v.spans:
                if span not in cites:
                    p = inp.passage(span[0])
                    assert p is not None  # the verifier only returns spans of given passages
                    cites[span] = citation(inp.index, len(cites) + 1, p.candidate, span[1], span[2])
            on_sentence(AnswerSentence(text=v.text, citations=[cites[s].n for s in v.spans]), [cites[s] for s in v.spans])

        return announce

    def close(self) -> None:
        """Stop what the generator runs (the local llama.cpp server); safe to call twice."""
        close = getattr(self.generator, "close", None)
        if callable(close):
            close()

    def model_versions(self) -> dict[str, str | None]:
        """The trained artefacts that shape an answer besides the index: the screen and the gate's calibration."""
        return {"screen": self.screen.version, "calibration": self.abstain_model.version if self.abstain_model else None}

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

    def _generation_input(self, idx: LoadedIndex, question: str, qvec: np.ndarray, res: RetrievalResult) -> GenerationInput:
        n_chunks = self.settings.answer.candidate_chunks
        quoted = res.quoted(n_chunks)
        passages = [Passage(i + 1, c.row, idx.chunks[c.row], c) for i, c in enumerate(quoted)]
        pool = candidate_sentences(idx, quoted, qvec)
        return GenerationInput(question, passages, qvec, idx, pool)

    @staticmethod
    def _add_passages(inp: GenerationInput, res: RetrievalResult, rows: list[int]) -> None:
        by_row = res.by_row()
        for row in rows:
            if inp.by_row(row) is None and row in by_row:
                inp.passages.append(Passage(len(inp.passages) + 1, row, inp.index.chunks[row], by_row[row]))

    def _add_scope(self, inp: GenerationInput, res: RetrievalResult, cands: list[Candidate]) -> None:
        """Passages saying whom a recommendation applies to, which the gate did not read, added with their sentences
        (scored by the sentence scorer) for the answer to quote as that statement (``answer.with_scope``)."""
        new = [c for c in cands if inp.by_row(c.row) is None]
        if not new:
            return
        first = 1 + max((p.cand_rank for p in inp.pool), default=-1)
        picked = candidate_sentences(inp.index, new, inp.qvec)
        for p in picked:
            p.cand_rank += first  # read after the passages already quoted
        self.gate.score(inp.index, inp.question, res, picked)
        self._add_passages(inp, res, [c.row for c in new])
        inp.scope.extend(picked)

    @staticmethod
    def _disclose(resp: QueryResponse, idx: LoadedIndex, question: str, readings: list[Reading]) -> QueryResponse:
        """The question's specific words none of the cited guidelines uses (and which of them no guideline here uses),
        the asked kinds of item no answer sentence gives (app/query/coverage.py), and the words read as the guidelines
        spell them (app/query/spelling.py)."""
        resp.unmatched_terms = unmatched_terms(idx, question, (c.doc_id for c in resp.citations))
        resp.unindexed_terms = unindexed_terms(idx, resp.unmatched_terms)
        if resp.status == "answered":
            resp.unanswered_items = unanswered_items(question, (s.text for s in resp.sentences))
        resp.read_as = [ReadAs(written=r.written, read=r.read) for r in readings]
        return resp

    def _finish(self, resp: QueryResponse, idx: LoadedIndex | None, timings: Timings, t_start: float) -> QueryResponse:
        timings.total = _ms(t_start)
        resp.timings_ms = timings
        if idx is not None:
            resp.index_version = idx.version
        return resp

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

    def explain(self, question: str) -> tuple[RetrievalResult, LoadedIndex, list[Picked]]:
        """Retrieval and the candidate sentences for one question (used by calibration); no screen, no gate."""
        idx = self.holder.get()
        qvec = self.embed_query(question)
        res = self.retriever.retrieve(idx, qvec, question, self.settings.retrieval.top_k, None)
        return res, idx, self._generation_input(idx, question, qvec, res).pool
