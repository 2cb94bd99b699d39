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

from app.query.retrieve import Candidate
from app.query.sections import about_guideline, points_elsewhere
from app.query.termcache import ITEMS
from ingest.injection import is_instruction_like
from ingest.store import LoadedIndex

_MIN_CHARS = 25
_HAS_LETTER = re.compile(r"[A-Za-z]{3}")


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
    fragment: bool | None = None  # answer_fragment(text), computed once per chunk (QUOTABLE); None: not yet

    def is_fragment(self) -> bool:
        return answer_fragment(self.text) if self.fragment is None else self.fragment


# Not prose: a form's blanks and checkbox options, a table cell in parentheses, a figure caption.
_FORM = re.compile(r"_{3,}|^\s*(?:yes\s+no|no\s+yes|not applicable)\b|^\s*\([^()]*\)\s*$|\((?:figure|table|box) \w+\)\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+|www\.\S+")
# A row of a grade-definitions table ("D | The USPSTF recommends against the service.", "I Statement | The USPSTF
# concludes …"): what a grade letter means, not the grade given to anything — quoted beside a question it reads as
# the recommendation itself.
_GRADE_ROW = re.compile(r"^\s*(?:grade\s+)?(?:[A-D]|I(?:\s+statement)?)\s*\|", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'\-]+")
# At most this many words, no closing punctuation, no number and no verdict: a label, not a sentence (stop 34).
# "Adults aged 45 to 75 years" and "Chest radiography (not recommended)" say something and stay quotable.
_LABEL_WORDS = 5
_SAYS_SOMETHING = re.compile(r"\d|recommend", re.IGNORECASE)


def _heading_like(text: str) -> bool:
    """A title or heading: most of its words capitalised, and no closing punctuation unless it is short
    ("Respiratory Hygiene/Cough Etiquette", "Summary Chart of U.S. Medical Eligibility Criteria …")."""
    words = [w for w in _WORDS.findall(text) if len(w) > 3]
    if text.rstrip()[-1:] in ".!?:;" and len(_WORDS.findall(text)) > 6:
        return False  # a short title may end in a full stop ("Treatments for Acute Pain.")
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


# Longer labels: a topic list's entries and a checklist's cut-off items ("Opioid selection, dosage, duration, follow-up,
# and discontinuation", "L. HCP wear a facemask (e.g., surgical mask) when placing a"). The gate reads them (they tell
# what the guideline covers); an answer does not quote them (stop 37).
_ANSWER_LABEL_WORDS = 10
_VERDICT = re.compile(r"\d|recommend|indicated|\bavoid|\bshould\b|\bmust\b", re.IGNORECASE)


def answer_label(text: str) -> bool:
    """A label an answer does not quote: at most ``_ANSWER_LABEL_WORDS`` words, no closing punctuation, no number
    and no verdict."""
    return (text.rstrip()[-1:] not in ".!?:;" and len(_WORDS.findall(text)) <= _ANSWER_LABEL_WORDS  # most sentences end in "."
            and not _VERDICT.search(text))


# A list's enumerators run together ("a. Nonpelvic b. Pelvic …", "i. Upon hire, prior to provision of care ii."): a
# table or checklist flattened by its parser. A piece of a sentence the splitter cut starts with a lower-case word
# ("adherence to hand hygiene.", "because of its activity …"); "eGFR" and "iPLEDGE" are names, not pieces.
_ENUMERATOR = re.compile(r"(?<!\S)(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\.(?!\S)")
_CUT_PIECE = re.compile(r"\s*[a-z][a-z'\-]*(?=[\s,;:.]|$)")
# What says nothing by itself: a pointer to another part of the guideline ("See the "Clinical Considerations" section
# below for …", "Table 8 in the original guideline document lists …", "… is available in the original guideline
# document."), a glossary ("Abbreviations: ARV = …"), a run of table cells with fewer than 3 distinct words ("≥20 yrs:1
# ≥20 yrs:1 …"), and a checklist item cut off mid-clause ("H. Multi-dose vials to be used for more than one patient are").
# Anchored patterns (``match``) and a substring test first: this runs on every candidate sentence of every answer.
_POINTER_START = re.compile(
    r"\s*(?:(?:see|refer to)\b.*\b(?:sections?|figures?|tables?|appendix|appendices|chapters?|recommendations?|original|box|"
    r"below|above|pages?)\b|(?:table|figure|appendix)\s+\S+\s+(?:in|of)\s+the\s+original\b|(?:abbreviations?|key)\s*:)",
    re.IGNORECASE,
)
_POINTER_END = re.compile(r"\b(?:is|are)\s+(?:available|provided|given|described|listed|found)\s+in\s+the\s+original\s+guideline"
                          r"(?:\s+document)?\.?\s*$", re.IGNORECASE)
_DANGLING = frozenset("a an the and or of to for with in on by is are was were be that which when if as from".split())


def answer_fragment(text: str) -> bool:
    """A piece of a list or of a sentence, or a sentence that says nothing by itself, which an answer does not quote
    (stop 45): two or more list enumerators, a start in a lower-case word, a pointer elsewhere, a glossary, table
    cells, a clause cut off. The gate still reads it. A grade label it opens with belongs to the sentence before it
    ("(B recommendation) See the … section below …") and is read past."""
    if text[:1] == "(" and (m := TRAILING_LABEL.match(text)):
        text = text[m.end():]
    if _CUT_PIECE.match(text) or _POINTER_START.match(text):
        return True
    if "original guideline" in text and _POINTER_END.search(text[-80:]):
        return True
    if ". " in text and len(_ENUMERATOR.findall(text)) >= 2:
        return True
    tail = text.rstrip()
    if tail[-1:] not in ".!?:;)" and tail.rsplit(None, 1)[-1].lower() in _DANGLING:
        return True
    seen: set[str] = set()
    for m in _WORDS.finditer(text):  # table cells: fewer than 3 distinct words (stops at the third)
        seen.add(m.group().lower())
        if len(seen) >= 3:
            return False
    return True


def quotable(text: str, screened: bool = False) -> bool:
    """Sentences worth quoting: real prose — not a stray heading, a form's blanks or options, a table cell, a
    caption, a pointer to a web page, or a planted instruction. ``screened``: the text is part of a citable chunk,
    which ingest found free of instruction-like text as a whole (``Chunk.citable``), so it is not searched again."""
    if len(text) < _MIN_CHARS or not _HAS_LETTER.search(text) or (not screened and is_instruction_like(text)):
        return False
    if _FORM.search(text) or _GRADE_ROW.match(text) or _heading_like(text):
        return False
    if _URL.search(text) and len(_WORDS.findall(_URL.sub(" ", text))) < 15:
        return False  # "For complete guidance, see: https://…"
    n_words = len(_WORDS.findall(text))
    if n_words <= _LABEL_WORDS and text.rstrip()[-1:] not in ".!?:;" and not _SAYS_SOMETHING.search(text):
        return False  # a label: a list entry or a heading in sentence case ("Monitoring of renal function")
    return n_words >= 4


_NON_WORD = re.compile(r"[^a-z0-9]+")


def _squash(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def _sentence_prior(text: str, title: str) -> float:
    """Small score adjustments: a restated title says nothing; a fragment is a weaker answer."""
    st, tt = _squash(text), _squash(title)
    if st and (st in tt or (len(tt) > 20 and tt in st and len(st) < len(tt) * 1.3)):
        return -1.0
    return 0.0 if text.rstrip()[-1:] in ".!?:)" else -0.05


# A recommendation's grade set apart after it: "… in adults. (I statement)", "… (B recommendation)". Not quotable on
# its own; quoted with the sentence before it, so a recommendation comes with its grade.
GRADE_LABEL = re.compile(r"^\s*\((?:(?:grade\s+)?[A-D]\s+recommendation|I\s+statement|grade\s+[A-DI])\)\.?\s*$", re.IGNORECASE)
# The same in the VA/DoD and CDC styles, which the splitter leaves at the head of the next sentence ("… over another.
# (Strong For; Reviewed, New-replaced) 9. In patients …", "(Weak For)", "(Category IB)", "(Consensus–Panel Expertise)").
# Read only once the answer's sentences are chosen (``with_trailing_label``): the gate and the sentence scorer see the
# sentences as ingest split them (docs/benchmarks.md, stop 32).
TRAILING_LABEL = re.compile(
    r"\s*\((?:(?:grade\s+)?[A-D]\s+recommendation|I\s+statement|grade\s+[A-DI]|category\s+I[ABC]?|"
    r"(?:strong|weak|moderate|conditional|consensus|not\s+applicable|N/A|carryover|modified\s+from|"
    r"recommendation\s+category|level\s+of\s+evidence|quality\s+of\s+evidence)\b[^()]{0,100})\)\.?(?=\s|$)",
    re.IGNORECASE,
)


def with_trailing_label(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a chosen sentence widened to the grade label right after it, and moved past one it opens with."""
    if m := TRAILING_LABEL.match(text, end):
        end = m.end()
    if (m := TRAILING_LABEL.match(text, start, end)) and m.start() == start and text[start] == "(":
        rest = m.end()
        while rest < end and text[rest].isspace():
            rest += 1
        start = rest if end - rest >= _MIN_CHARS else start
    return start, end


# A bibliography entry, or a piece of one: an author list, "et al.", "2007;147:478–91", a PMID or DOI.
_REFERENCE = re.compile(
    r"^(?:[A-Z][A-Za-z'\-]+ [A-Z]{1,3}, ){2,}|\bet al\.|\b(?:19|20)\d\d;\s?\d+|\bPMID:?\s?\d|\bdoi\.org/|\bdoi:\s?10\.|"
    r"^\s*\d+\.\s+[A-Z][A-Za-z'\-]+ [A-Z]{1,3},"
)
REFERENCE_LIST_SHARE = 0.3


def reference_list(texts: list[str]) -> bool:
    """A chunk of a bibliography (a PDF's reference list that parsing did not set apart under its own heading):
    at least two and at least 30 % of its sentences look like parts of reference entries. None of its sentences is quoted, the
    titles of cited works included ("Diagnosis and treatment of low back pain: a joint clinical practice …")."""
    n = sum(bool(_REFERENCE.search(t)) for t in texts)
    return n >= 2 and n >= REFERENCE_LIST_SHARE * len(texts)


class _QuotableCache:
    """Per (index version, row): the chunk's quotable sentences and their priors (they depend on the chunk
    alone; only the similarities depend on the question). Bounded."""

    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self._d: OrderedDict[tuple[str, int], list[tuple[int, int, int, str, float, bool]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: LoadedIndex, row: int) -> list[tuple[int, int, int, str, float, bool]]:
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
                prior = _sentence_prior(text, chunk.title)
                if prior > -1.0:
                    out.append((i, s.start, end, text, prior, answer_fragment(text)))
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
        for i, start, end, text, prior, fragment in sents:
            out.append(Picked(rank, c.row, i, start, end, text, float(sims[i]) + prior, about_guideline=about or points_elsewhere(text),
                              fragment=fragment))
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
    return set(_squash(text).split())


def select_by_score(index: LoadedIndex, pool: list[Picked], k: int, margin: float, floor: float) -> list[Picked]:
    """The best-scored sentence, then up to k-1 more within ``margin`` log-odds of it and above ``floor``,
    skipping near-repeats; in reading order (passage by passage, sentences in document order)."""
    scored = sorted((p for p in pool if p.score is not None and not p.about_guideline and not answer_label(p.text)
                     and not p.is_fragment()),
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
        if _repeats(p, chosen):
            continue
        chosen.append(p)
    return sorted(chosen, key=lambda p: (p.cand_rank, p.start))
