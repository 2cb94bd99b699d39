"""Extractive answerer: verbatim sentences from the top passages, chosen by similarity with MMR.

Sentence vectors were computed at ingest (ingest/pipeline.py), so answering costs a few hundred
dot products and no encoder call.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from app.query.quotable import (
    GRADE_LABEL,
    answer_fragment,
    answer_label,
    quotable,
    reference_list,
    sentence_prior,
    squash,
)
from app.query.retrieve import Candidate
from app.query.sections import about_guideline, points_elsewhere
from app.query.statements import dangling_lead, entry_head
from app.query.termcache import ITEMS
from ingest.store import LoadedIndex


@dataclass
class Picked:
    cand_rank: int  # rank of the passage among retrieved candidates
    row: int
    sent_idx: int
    start: int
    end: int
    text: str
    sim: float
    score: float | None = None  # log-odds that this sentence holds the answer (the gate's sentence scorer)
    about_guideline: bool = False  # describes the guideline itself (its section, or a pointer to its grade definitions): read by the gate, never quoted
    fragment: bool | None = None  # answer_fragment(text), or a lead-in whose list is in the next chunk (QUOTABLE); None: not yet
    entry_of: int | None = None  # an entry of a statement's list: the sentence the statement opens with; chosen, the entry is quoted as the whole statement (app/query/statements.py)

    def is_fragment(self) -> bool:
        return answer_fragment(self.text) if self.fragment is None else self.fragment


class _QuotableCache:
    """Per (index version, row): the chunk's quotable sentences and their priors (they depend on the chunk
    alone; only the similarities depend on the question). Bounded."""

    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self._d: OrderedDict[tuple[str, int], list[tuple[int, int, int, str, float, bool, int | None]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: LoadedIndex, row: int) -> list[tuple[int, int, int, str, float, bool, int | None]]:
        key = (f"{index.root}@{index.version}", row)  # one loaded index version (as termcache.cache_key)
        with self._lock:
            hit = self._d.get(key)
            if hit is not None:
                self._d.move_to_end(key)
                return hit
        chunk = index.chunks[row]
        out = []
        if reference_list([chunk.text[s.start : s.end] for s in chunk.sentences]):
            chunk_sentences = []
        else:
            chunk_sentences = chunk.sentences
        standard = set(chunk.boilerplate)  # the issuer's standard text, repeated by several guidelines
        for i, s in enumerate(chunk_sentences):
            text = chunk.text[s.start : s.end]
            if i not in standard and quotable(text, screened=chunk.citable):
                end = s.end
                nxt = chunk_sentences[i + 1] if i + 1 < len(chunk_sentences) else None
                if nxt is not None and GRADE_LABEL.match(chunk.text[nxt.start : nxt.end]):
                    end = nxt.end  # the grade label that follows is part of the quote (one contiguous span)
                    text = chunk.text[s.start : end]
                prior = sentence_prior(text, chunk.title)
                if prior > -1.0:
                    entry_of = entry_head(chunk.text, chunk_sentences, i)
                    fragment = answer_fragment(text) or dangling_lead(chunk.text, chunk_sentences, i)
                    out.append((i, s.start, end, text, prior, fragment, entry_of))
        with self._lock:
            self._d[key] = out
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return out

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


QUOTABLE = _QuotableCache()


def candidate_sentences(index: LoadedIndex, cands: list[Candidate], qvec: np.ndarray) -> list[Picked]:
    """The quotable sentences of ``cands`` (each passage's rank is its place in that list), with their similarity."""
    out: list[Picked] = []
    for rank, c in enumerate(cands):
        block = index.sentence_block(c.row)
        if block.shape[0] == 0:
            continue
        sents = QUOTABLE.get(index, c.row)
        if not sents:
            continue
        sims = block @ qvec
        about = about_guideline(index.chunks[c.row].section_path)
        for i, start, end, text, prior, fragment, entry_of in sents:
            out.append(Picked(rank, c.row, i, start, end, text, float(sims[i]) + prior, about_guideline=about or points_elsewhere(text),
                              fragment=fragment, entry_of=entry_of))
    return out


# A statement of scope that excludes: "It does not apply to …", "… are excluded", "… are not the focus of this recommendation".
_EXCLUDES = re.compile(r"\bnot\b[^.;]{0,20}\b(?:appl|intended|meant|the focus|applicable)|\bexcluded\b|\boutside (?:the|its) scope\b", re.IGNORECASE)


def with_scope(index: LoadedIndex, pool: list[Picked], chosen: list[Picked], k: int) -> list[Picked]:
    """``chosen`` with the guideline's statement of whom its recommendation covers, for a question that asks whether
    it covers someone ("does the statement apply to her?"): the best-scored sentence of the first chosen sentence's
    guideline saying whom it applies to, and the best saying whom it does not ("It does not apply to children born
    prematurely"), each unless one of its kind is chosen already. An added sentence takes the place of the
    lowest-scored chosen sentence that is not itself a statement of scope when ``chosen`` is full."""
    if not chosen:
        return chosen
    doc = index.chunks[chosen[0].row].doc_id
    scoped = sorted((p for p in pool if p.score is not None and not p.about_guideline and index.chunks[p.row].doc_id == doc
                     and "scope" in ITEMS.get(p.text)), key=lambda p: -(p.score or 0.0))
    out = list(chosen)
    for excludes in (False, True):
        if any("scope" in ITEMS.get(p.text) and bool(_EXCLUDES.search(p.text)) == excludes for p in out):
            continue
        add = next((p for p in scoped if bool(_EXCLUDES.search(p.text)) == excludes and not _repeats(p, out)), None)
        if add is None:
            continue
        if len(out) >= k:
            others = [p for p in out if "scope" not in ITEMS.get(p.text)]
            if not others:
                continue
            out.remove(min(others, key=lambda p: p.score or 0.0))
        out.append(add)
    return sorted(out, key=lambda p: (p.cand_rank, p.start))


def _repeats(p: Picked, chosen: list[Picked]) -> bool:
    """A near-repeat of a chosen sentence: the same words again (> 0.8 Jaccard) or an overlapping span of one passage."""
    w = _word_set(p.text)
    return any(len(w & _word_set(q.text)) / max(1, len(w | _word_set(q.text))) > 0.8 or (q.row == p.row and q.start < p.end and p.start < q.end)
               for q in chosen)


def mmr_select(
    index: LoadedIndex,
    pool: list[Picked],
    k: int,
    lam: float,
    min_sim: float,
    rel_floor: float,
) -> list[Picked]:
    pool = [p for p in pool if not p.about_guideline]
    if not pool:
        return []
    best = max(p.sim for p in pool)
    floor = max(min_sim, best * rel_floor)
    pool = [p for p in pool if p.sim >= floor]
    vecs = {id(p): index.sentence_block(p.row)[p.sent_idx] for p in pool}
    chosen: list[Picked] = []
    while pool and len(chosen) < k:
        def mmr(p: Picked) -> float:
            red = max((float(vecs[id(p)] @ vecs[id(q)]) for q in chosen), default=0.0)
            return lam * p.sim - (1 - lam) * red

        nxt = max(pool, key=mmr)
        if chosen and max(float(vecs[id(nxt)] @ vecs[id(q)]) for q in chosen) > 0.92:
            pool.remove(nxt)  # says the same thing again
            continue
        chosen.append(nxt)
        pool.remove(nxt)
    # Readable order: passage by passage in retrieval order, sentences in document order.
    return sorted(chosen, key=lambda p: (p.cand_rank, p.start))


def _word_set(text: str) -> set[str]:
    return set(squash(text).split())


def select_by_score(index: LoadedIndex, pool: list[Picked], k: int, margin: float, floor: float) -> list[Picked]:
    """The best-scored sentence, then up to k-1 more within ``margin`` log-odds of it and above ``floor``,
    skipping near-repeats; in reading order (passage by passage, sentences in document order)."""
    scored = sorted((p for p in pool if p.score is not None and not p.about_guideline
                     and (p.entry_of is not None or (not answer_label(p.text) and not p.is_fragment()))),
                    key=lambda p: -(p.score or 0.0))
    if not scored:
        return []
    best = scored[0].score or 0.0
    chosen: list[Picked] = []
    for p in scored:
        if len(chosen) >= k:
            break
        if chosen and ((p.score or 0.0) < best - margin or (p.score or 0.0) < floor):
            break
        # A near-repeat says the same words again (late-chunked sentence vectors of one passage are too
        # alike to tell two recommendations apart, so this compares words, not vectors).
        if _repeats(p, chosen) or _same_statement(p, chosen):
            continue
        doc = index.chunks[p.row].doc_id
        kin = [i for i, q in enumerate(chosen) if index.chunks[q.row].doc_id == doc]
        if any(says_within(p.text, chosen[i].text) for i in kin):
            continue
        inside = [i for i in kin if says_within(chosen[i].text, p.text)]
        if inside:  # the fuller sentence takes the place of those it repeats
            chosen = [q for i, q in enumerate(chosen) if i not in inside[1:]]
            chosen[inside[0]] = p
            continue
        chosen.append(p)
    return sorted(chosen, key=lambda p: (p.cand_rank, p.start))


def says_within(text: str, fuller: str) -> bool:
    """Every word of ``text`` (5 or more) is in ``fuller``, which has at most 2.5 times as many: within one guideline
    ``text`` says nothing ``fuller`` does not (a summary table's row repeating its recommendation, a population line
    said twice). Across guidelines both are kept: that two guidelines say the same is worth saying. A much longer
    sentence is kept apart: "Wear a facemask when …" is not said again by a list of unsafe practices that includes
    "failure to wear a facemask when …"."""
    w, f = _word_set(text), _word_set(fuller)
    return len(w) >= 5 and w <= f and len(f) <= 2.5 * len(w)


def _statement_lines(p: Picked) -> tuple[int, int]:
    return (p.sent_idx, p.sent_idx) if p.entry_of is None else (p.entry_of, p.sent_idx)


def _same_statement(p: Picked, chosen: list[Picked]) -> bool:
    """Part of a statement with a list that a chosen sentence is part of too (its opener, lead-in or another entry):
    the answer quotes the statement once, so it takes one place among the chosen sentences."""
    a, b = _statement_lines(p)
    return any(q.row == p.row and (q.entry_of is not None or p.entry_of is not None)
               and a <= _statement_lines(q)[1] and _statement_lines(q)[0] <= b for q in chosen)
