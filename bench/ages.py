"""The patient's age a question states, and the age ranges a guideline sentence speaks of.

A vignette says "a 45-year-old average-risk man"; a screening guideline's recommendations are banded by age ("adults
aged 50 to 75 years", "76 to 85 years", "86 years and older"). Which band a sentence speaks of decides whether it is
the patient's recommendation or a neighbour's, and the words alone do not tell: "The USPSTF does not recommend
routine screening for colorectal cancer in adults 86 years and older" covers as many of that question's words as the
band the patient is in. ``age_fit`` was tried as a column of the sentence scorer (stop 42's R-A, through
bench/gate_candidates.py's ``s_age_fit`` and bench/sentence_rank.py) and not taken: docs/benchmarks.md, "Stop 42".
Kept here, outside the served code, for a later try.

Plain patterns, so that a column's value can be checked by reading the sentence: an age range is "aged A to B", "A to
B years (of age)", "A- to B-year-olds", "A years and older", "older than A", "beginning at age A", "B years or
younger", "younger than B", "until age B" (a start and an end in one sentence make one range); an interval ("every 3
to 5 years", "at 1 to 2 year intervals") or a stage ("stages 1-4 CKD") is not an age.
"""

from __future__ import annotations

import functools
import re

_I = re.IGNORECASE
_N = r"(\d{1,3})"
_YRS = r"\s*(?:-\s*)?years?(?:\s+of\s+age|\s+old)?"

PATIENT = re.compile(
    rf"\b{_N}[- ](?:year|yr)s?[- ]old\b|\baged\s+{_N}\b(?!\s*(?:to|-|–|and|or|through)\s*\d)|\b{_N}\s*(?:years?|yrs?)\s+of\s+age\b"
    rf"|\b{_N}\s*(?:yo|y/o)\b",
    _I,
)
_RANGE = re.compile(
    rf"(?<!every )(?<!each )(?<!within )(?<!for )(?<!after )\b(?:(?:aged|ages|age)\s+{_N}\s*(?:to|through|-|–|and)\s*{_N}\b"
    rf"|{_N}\s*(?:-\s*)?(?:to|through|-|–)\s*{_N}(?:-year-olds?|{_YRS})"
    rf"(?!\s*(?:intervals?|ago|after|later|since|apart|of (?:follow|smok|therapy|treatment)))\b)",
    _I,
)
_LOWER = re.compile(
    rf"\b(?:{_N}{_YRS}\s*(?:and|or)\s*(?:older|over|above)|(?:older than|over the age of|above the age of|"
    rf"(?:beginning|starting|begin|start)\s+at\s+(?:age)?)\s*{_N})",
    _I,
)
_UPPER = re.compile(rf"\b(?:{_N}{_YRS}\s*(?:and|or)\s*(?:younger|under)|(?:younger than|under the age of|(?:until|through|up to)\s+age)\s+{_N})", _I)
OPEN = 200  # "86 years and older": no upper bound


def _first(m: re.Match[str]) -> int:
    return int(next(g for g in m.groups() if g))


def patient_age(question: str) -> int | None:
    """The age the question states for its patient ("a 45-year-old", "aged 61", "52 years of age"), else None.
    "started smoking at age 12" is not the patient's age."""
    m = PATIENT.search(question)
    if m is None:
        return None
    age = _first(m)
    return age if 0 < age < 120 else None


@functools.lru_cache(maxsize=65536)
def age_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """The age ranges ``text`` states, as (low, high) years inclusive (``OPEN`` for no upper bound)."""
    out = []
    for m in _RANGE.finditer(text):
        a, b = (int(g) for g in m.groups() if g)
        if a <= b < 120:
            out.append((a, b))
    lows = [_first(m) for m in _LOWER.finditer(text)]
    highs = [_first(m) for m in _UPPER.finditer(text)]
    if lows and highs and not out:  # "starting at age 50 … until age 75"
        out.append((min(lows), max(highs)))
    else:
        out += [(a, OPEN) for a in lows] + [(0, b) for b in highs]
    return tuple((a, b) for a, b in out if a < 120)


def age_fit(age: int | None, text: str) -> float:
    """+1 when ``text`` states an age range holding ``age``, -1 when it states ranges and none holds it, 0 when the
    question states no age or the sentence no range."""
    if age is None:
        return 0.0
    ranges = age_ranges(text)
    if not ranges:
        return 0.0
    return 1.0 if any(lo <= age <= hi for lo, hi in ranges) else -1.0
