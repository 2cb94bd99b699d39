"""Hybrid retrieval: FAISS (dense) + BM25 (bm25s), reciprocal rank fusion, filters, near-duplicate suppression."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np

from app.query.asks import asked_kinds
from app.query.named import Names, asked_names, docs_named, named_groups
from app.query.recommended import graded_rows_by_doc, recommended_rows, scope_rows_by_doc
from app.query.schemas import QueryFilters
from app.query.termcache import per_version
from ingest.store import LoadedIndex

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_DATE_PATTERNS = [
    re.compile(r"(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>(?:19|20)\d{2})\s+(?P<mon>[A-Za-z]{3})[a-z]*\.?(?:\s+(?P<d>\d{1,2}))?"),
    re.compile(r"(?P<y>(?:19|20)\d{2})"),
]


def parse_published(text: str) -> date | None:
    """Latest date mentioned ('2006 Feb (revised 2013 Sep 3)' → 2013-09-03); None if there is none."""
    best: date | None = None
    for rx in _DATE_PATTERNS:
        for m in rx.finditer(text or ""):
            g = m.groupdict()
            try:
                month = int(g["m"]) if g.get("m") else _MONTHS.get((g.get("mon") or "").lower()[:3], 1)
                d = date(int(g["y"]), month, int(g["d"]) if g.get("d") else 1)
            except (ValueError, TypeError):
                continue
            best = d if best is None or d > best else best
        if best is not None:
            return best
    return best


@dataclass
class Candidate:
    row: int
    score: float  # fused (RRF) score
    dense_sim: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None


@dataclass
class RetrievalResult:
    candidates: list[Candidate]
    dense_top_sim: float
    bm25_top_score: float
    n_query_terms: int
    dense_docs: list[str]
    bm25_docs: list[str]
    # A question comparing named guidelines ("CDC 2016 vs 2022"): each named guideline's own best passages,
    # so that the conflict check sees both even when one ranks below the other's passages overall.
    compared: list[list[Candidate]] = field(default_factory=list)
    # The best guideline's passages under its recommendations heading that ranked below the ``k`` candidates
    # (app/query/recommended.py): quoted with the first passages, never returned as an abstention's citations.
    recommended: list[Candidate] = field(default_factory=list)
    # The best guideline's graded recommendation statements most like the question (app/query/recommended.py): the
    # answer may quote them, the gate does not read them (a question the guideline does not answer finds them too).
    graded: list[Candidate] = field(default_factory=list)
    # For a question asking whom a recommendation covers, the best guideline's passages saying whom it applies to
    # (app/query/recommended.py): added to an answer once the gate has decided, never read by the gate or the scorer's fit.
    scoped: list[Candidate] = field(default_factory=list)

    def quoted(self, n: int) -> list[Candidate]:
        """The passages whose sentences may be quoted: the first ``n`` candidates, the recommended, the graded ones."""
        return self.candidates[:n] + self.recommended + self.graded

    def read(self, n: int) -> list[Candidate]:
        """The passages whose sentences the gate reads: the quoted ones but the graded statements."""
        return self.candidates[:n] + self.recommended

    def graded_rows(self) -> frozenset[int]:
        return frozenset(c.row for c in self.graded)

    def by_row(self) -> dict[int, Candidate]:
        """Every candidate of this result by row: the ranked ones, then the compared guidelines' own."""
        out = {c.row: c for group in self.compared for c in group}
        out.update({c.row: c for c in self.recommended + self.graded + self.scoped})
        out.update({c.row: c for c in self.candidates})
        return out


class Retriever(Protocol):
    def retrieve(self, index: LoadedIndex, qvec: np.ndarray, question: str, k: int, filters: QueryFilters | None) -> RetrievalResult: ...


def allowed_rows(index: LoadedIndex, filters: QueryFilters | None) -> np.ndarray | None:
    """Row ids passing the filters (None = no filter)."""
    if filters is None or not any((filters.doc_id, filters.issuer, filters.published_from, filters.published_to)):
        return None
    cache: dict[str, np.ndarray] = index.__dict__.setdefault("_filter_cache", {})
    key = filters.model_dump_json()
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        cache[key] = _allowed(index, filters)
    return cache[key]


def _allowed(index: LoadedIndex, f: QueryFilters) -> np.ndarray:
    docs = index.manifest["documents"]
    ok_docs = set()
    for doc_id, d in docs.items():
        if f.doc_id and doc_id not in f.doc_id:
            continue
        if f.issuer and not any(i.lower() in (d.get("issuer") or "").lower() for i in f.issuer):
            continue
        if f.published_from or f.published_to:
            pub = parse_published(d.get("published") or "")
            if pub is None:
                continue
            if f.published_from and pub < f.published_from:
                continue
            if f.published_to and pub > f.published_to:
                continue
        ok_docs.add(doc_id)
    return np.array([i for i, c in enumerate(index.chunks) if c.doc_id in ok_docs], dtype=np.int64)


def _doc_rows(index: LoadedIndex) -> dict[str, np.ndarray]:
    """Each document's row ids, ascending (built once per loaded index)."""
    rows = index.__dict__.get("_doc_rows")
    if rows is None:
        lists: dict[str, list[int]] = {}
        for i, c in enumerate(index.chunks):
            lists.setdefault(c.doc_id, []).append(i)
        rows = {d: np.asarray(r, dtype=np.int64) for d, r in lists.items()}
        index.__dict__["_doc_rows"] = rows
    return rows


def _named_rows(index: LoadedIndex, question: str) -> np.ndarray | None:
    """``app.query.named.named_rows`` (the named documents' rows, ascending; None: not named, or no row or
    every row), from each document's rows, once per loaded index and named issuer/year (not per question)."""
    names = asked_names(question)
    if names is None:
        return None
    cache: dict[Names, np.ndarray | None] = index.__dict__.setdefault("_named_rows", {})
    if names not in cache:
        docs = docs_named(names, index.manifest["documents"]) or set()
        by_doc = _doc_rows(index)
        parts = [by_doc[d] for d in docs if d in by_doc]
        rows = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        cache[names] = None if rows.size == 0 or rows.size == len(index.chunks) else rows
    return cache[names]


def citable_mask(index: LoadedIndex) -> np.ndarray:
    mask = index.__dict__.get("_citable")
    if mask is None:
        mask = np.array([c.citable for c in index.chunks], dtype=bool)
        index.__dict__["_citable"] = mask
    return mask


class HybridRetriever:
    def __init__(
        self, dense_k: int = 50, bm25_k: int = 50, rrf_k: int = 60, mode: str = "hybrid", near_dup: float = 0.97,
        bm25_weight: float = 1.0, recommended: int = 0, graded: int = 0, scope: int = 0, compared_graded: int = 0,
    ) -> None:
        self.dense_k, self.bm25_k, self.rrf_k, self.mode, self.near_dup = dense_k, bm25_k, rrf_k, mode, near_dup
        self.bm25_weight = bm25_weight  # weighted RRF: a BM25 rank counts this much of a dense rank
        self.recommended = recommended  # how many of the top guideline's recommendation passages to add below the cut
        self.graded = graded  # and how many of its graded recommendation statements, the most like the question first
        self.scope = scope  # and, for a question about whom a recommendation covers, how many of its statements of scope
        self.compared_graded = compared_graded  # for a comparison question, how many graded statements of each named guideline

    def dense(self, index: LoadedIndex, qvec: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        # Flat, HNSW or IVF as the manifest says; metadata filters stay exact (ingest.ann).
        from ingest.ann import dense_search

        return dense_search(index, qvec, k, allowed)

    def bm25(self, index: LoadedIndex, question: str, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        mask = None
        if allowed is not None:
            if allowed.size == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            mask = np.zeros(len(index.chunks), dtype=np.float32)
            mask[allowed] = 1.0
        return index.bm25.search(question, k, mask=mask)

    def retrieve(self, index: LoadedIndex, qvec: np.ndarray, question: str, k: int, filters: QueryFilters | None) -> RetrievalResult:
        allowed = allowed_rows(index, filters)
        if allowed is None:
            named = _named_rows(index, question)  # "what does the 2016 CDC guideline say …" → that guideline
            if named is not None:
                res = self._retrieve(index, qvec, question, k, named)
                if res.candidates:
                    return res
        res = self._retrieve(index, qvec, question, k, allowed)
        if allowed is None:
            res.compared = self._compared(index, qvec, question)
        return res

    def _graded(self, index: LoadedIndex, qvec: np.ndarray, quoted: list[Candidate], by_row: dict[int, Candidate]) -> list[Candidate]:
        """Up to ``graded`` of the top guideline's graded recommendation statements (app/query/recommended.py) that are
        not quoted yet, the most similar to the question first: a long question about a recommendation matches the
        discussion around it better than the statement itself."""
        return self._best_of(index, qvec, quoted, by_row, "graded_rows", graded_rows_by_doc, self.graded)

    def _best_of(
        self, index: LoadedIndex, qvec: np.ndarray, quoted: list[Candidate], by_row: dict[int, Candidate], name: str,
        rows_by_doc: Callable[[Sequence[Any]], dict[str, list[int]]], n: int,
    ) -> list[Candidate]:
        """Up to ``n`` of the top guideline's rows of ``rows_by_doc`` that are not quoted yet, the most like the question first."""
        if n <= 0 or not quoted:
            return []
        rows = per_version(index, name, lambda: rows_by_doc(index.chunks)).get(index.chunks[quoted[0].row].doc_id, [])
        seen = {index.chunks[c.row].content_sha for c in quoted}
        rows = [r for r in rows if index.chunks[r].content_sha not in seen]
        if not rows:
            return []
        sims = index.vectors[rows] @ qvec
        out = []
        for i in np.argsort(-sims, kind="stable")[:n].tolist():
            c = by_row.get(rows[i]) or Candidate(rows[i], 0.0)
            c.dense_sim = float(sims[i])
            out.append(c)
        return out

    def _compared(self, index: LoadedIndex, qvec: np.ndarray, question: str, k: int = 6) -> list[list[Candidate]]:
        """Each guideline a comparison question names, its own top ``k`` passages and up to ``compared_graded`` of its top
        document's graded recommendation statements (none: not a comparison)."""
        by_doc = _doc_rows(index)
        out = []
        for docs in named_groups(question, index.manifest["documents"]):
            parts = [by_doc[d] for d in docs if d in by_doc]
            if parts:
                rows = np.sort(np.concatenate(parts))
                own = self._retrieve(index, qvec, question, k, rows).candidates
                # and its graded recommendation statements most like the question: a vignette's words pull a long
                # guideline's discussion passages ahead of the statement the comparison is about (stop 48)
                out.append(own + self._best_of(index, qvec, own, {}, "graded_rows", graded_rows_by_doc, self.compared_graded))
        return [c for c in out if c] if sum(bool(c) for c in out) >= 2 else []

    def _retrieve(self, index: LoadedIndex, qvec: np.ndarray, question: str, k: int, allowed: np.ndarray | None) -> RetrievalResult:
        citable = citable_mask(index)  # planted instructions never compete for a rank
        cands: dict[int, Candidate] = {}
        d_ids = d_sims = b_ids = b_scores = np.zeros(0)
        if self.mode in ("hybrid", "dense"):
            d_ids, d_sims = self.dense(index, qvec, self.dense_k, allowed)
            keep = citable[d_ids]
            d_ids, d_sims = d_ids[keep], d_sims[keep]
            for rank, (row, sim) in enumerate(zip(d_ids.tolist(), d_sims.tolist(), strict=True)):
                c = cands.setdefault(int(row), Candidate(int(row), 0.0))
                c.dense_sim, c.dense_rank = float(sim), rank
                c.score += 1.0 / (self.rrf_k + rank + 1)
        if self.mode in ("hybrid", "bm25"):
            b_ids, b_scores = self.bm25(index, question, self.bm25_k, allowed)
            keep = citable[b_ids]
            b_ids, b_scores = b_ids[keep], b_scores[keep]
            for rank, (row, sc) in enumerate(zip(b_ids.tolist(), b_scores.tolist(), strict=True)):
                c = cands.setdefault(int(row), Candidate(int(row), 0.0))
                c.bm25_score, c.bm25_rank = float(sc), rank
                c.score += (self.bm25_weight if self.mode == "hybrid" else 1.0) / (self.rrf_k + rank + 1)
        ordered = sorted(cands.values(), key=lambda c: (-c.score, c.row))
        # Dense similarity for BM25-only candidates (cheap: one dot product each) feeds abstention.
        for c in ordered[: max(k * 2, 10)]:
            if c.dense_sim is None:
                c.dense_sim = float(index.vectors[c.row] @ qvec)
        kept = self._dedup(index, ordered, k)
        by_row = {c.row: c for c in ordered}
        rec = [by_row[r] for r in recommended_rows(index.chunks, [c.row for c in kept], (c.row for c in ordered), self.recommended)]
        for c in rec:
            if c.dense_sim is None:
                c.dense_sim = float(index.vectors[c.row] @ qvec)
        graded = self._graded(index, qvec, kept + rec, by_row)
        scoped = (self._best_of(index, qvec, kept + rec + graded, by_row, "scope_rows", scope_rows_by_doc, self.scope)
                  if self.scope > 0 and "scope" in asked_kinds(question) else [])
        return RetrievalResult(
            candidates=kept,
            recommended=rec,
            graded=graded,
            scoped=scoped,
            dense_top_sim=float(d_sims[0]) if len(d_sims) else (max((c.dense_sim or 0.0) for c in kept) if kept else 0.0),
            bm25_top_score=float(b_scores[0]) if len(b_scores) else 0.0,
            n_query_terms=len(index.bm25.tokenize_query(question)),
            dense_docs=_docs(index, d_ids, 10),
            bm25_docs=_docs(index, b_ids, 10),
        )

    def _dedup(self, index: LoadedIndex, ordered: list[Candidate], k: int) -> list[Candidate]:
        kept: list[Candidate] = []
        seen_sha: set[str] = set()
        for c in ordered:
            chunk = index.chunks[c.row]
            if not chunk.citable or chunk.content_sha in seen_sha:  # planted instructions are never evidence
                continue
            v = index.vectors[c.row]
            if any(float(v @ index.vectors[o.row]) >= self.near_dup for o in kept):
                continue
            seen_sha.add(chunk.content_sha)
            kept.append(c)
            if len(kept) >= k:
                break
        return kept


def _docs(index: LoadedIndex, ids: np.ndarray, n: int) -> list[str]:
    out: list[str] = []
    for r in ids.tolist():
        d = index.chunks[r].doc_id
        if d not in out:
            out.append(d)
        if len(out) >= n:
            break
    return out
