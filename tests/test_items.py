"""``Items`` skips a kind's pattern when the sentence holds none of its marks (app/query/items.py): every lookup must
be exactly the pattern's own search, on every sentence of the demo index and of the shared corpus index (the session's,
tests/conftest.py), on the evaluation questions, and on a sentence made for each alternative of each pattern with marks."""

from __future__ import annotations

import json
from pathlib import Path

from app.query.asks import ITEM_PATTERNS
from app.query.items import MARKS, Items, may_hold
from ingest.store import load_version

REPO = Path(__file__).resolve().parents[1]

# One sentence (or more) per alternative of each pattern that has marks, in several cases.
ALTERNATIVES = {
    "age": ["aged 50 years", "OLDER THAN 65", "beginning at 45", "75 years or older", "12-year-olds", "40 to 74 years", "ages 2 and up"],
    "interval": ["every two years", "Every 3 years", "every other year", "annually", "Yearly", "biennially", "triennial",
                 "once", "TWICE", "one-time", "1-time", "periodically", "the interval", "repeated", "3 times a day"],
    "dose": ["81 mg", "a dose", "dosing", "Dosage", "90 MME", "mme", "doses"],
    "duration": ["3 days", "for at least", "FOR UP TO", "2 to 4 weeks"],
    "threshold": ["130/80", "mm Hg", "MMHG", "mg/dL", "mmol", "20%", "percent", "> 5", "BMI", "kg/m squared", "at least 30", "exceeds 10"],
    "grade": ["Grade B", "B recommendation", "I statement", "insufficient", "strong for", "Weak against", "conditional recommendation",
              "strength of evidence", "level of evidence", "quality of evidence", "moderate-quality evidence", "low evidence",
              "certainty", "Category 2", "class II"],
    "recommend": ["recommends", "Recommended", "recommendation", "suggests", "should", "concludes", "advises", "may", "consider",
                  "preferred", "AVOID"],
    "number": ["3", "2.5", "one", "Two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve"],
}
NON_ASCII = ["ſhould be given", "maY\u00a0be offered", "ıt ıs İNSUFFİCİENT", "a dose of 5\u00a0mg", "treat to ≥130", "Kelvin \u212aG/M"]


def _texts() -> list[str]:
    texts = [f"{pre}{a}{post}" for alts in ALTERNATIVES.values() for a in alts for pre, post in (("", ""), ("The text: ", " here."))]
    texts += NON_ASCII + ["", "plain words without marks", "no digits here at all"]
    for f in sorted((REPO / "evalsets").rglob("*.jsonl")):
        texts += [d["question"] for line in f.read_text().splitlines() if line.strip() and "question" in (d := json.loads(line))]
    return texts


def _check(texts: list[str]) -> int:
    hits = 0
    for t in texts:
        lazy = Items(t)
        for kind, rx in ITEM_PATTERNS.items():
            want = bool(rx.search(t))
            assert (kind in lazy) == want, (kind, t)
            assert may_hold(kind, t) or not want, (kind, t)
            hits += want
    return hits


def test_each_alternative_of_each_pattern_is_found_through_its_marks() -> None:
    for kind, alts in ALTERNATIVES.items():
        assert kind in MARKS
        for a in alts:
            assert ITEM_PATTERNS[kind].search(a), (kind, a)  # the sentence does exercise the pattern
            assert kind in Items(a), (kind, a)
    assert _check(_texts()) > 200


def test_every_sentence_of_the_demo_index_gets_the_same_kinds(demo_index) -> None:
    idx = load_version(demo_index[0])
    assert _check([c.text[s.start : s.end] for c in idx.chunks for s in c.sentences]) > 300


def test_every_sentence_of_the_shared_index_gets_the_same_kinds(shared_index) -> None:
    root = shared_index[0]  # the session's shared corpus index (tests/conftest.py): built if none is cached
    idx = load_version(root)
    assert _check([c.text[s.start : s.end] for c in idx.chunks for s in c.sentences]) > 10000
