"""asked_units searches its 23 asking patterns only when the asking part holds a unit or measure word: the units must be
exactly those of searching every pattern (the reading before that shortcut)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.query.asks import ASK_MEASURE, ASK_UNIT, ask_part, asked_units
from tests.conftest import SHARED  # the configured shared data folder (GUIDEGROUND_DATA__SHARED_DIR)

REPO = Path(__file__).resolve().parents[1]

CRAFTED = [
    "What dose in mg/kg?", "how many mg", "What level in mEq/L should lithium be kept at?", "in what % of cases?",
    "How many seconds of compressions?", "what score on the PHQ-9?", "Above what diameter is repair advised?",
    "How many pack-years? And how many cigarettes a day?", "What titre (titer) of antibodies?", "in units per mL?",
    "how many International Units of vitamin D", "what µg dose", "What ng/mL threshold", "how many mm or cm",
    "what percentage", "what sensitivity and specificity", "In 3 drinks?", "42 kilograms?", "100 mg/dL?", "5 U/mL?",
    "mg", "%", "what?", "", "What is the mg. dose?", "Which concentration", "what points", "ΜG in µg", "ſeconds in",
]


def _reference(question: str) -> frozenset[str]:
    ask = ask_part(question)
    out = {u for u, rx in ASK_UNIT.items() if rx.search(ask)}
    out |= {m for m, rx in ASK_MEASURE.items() if rx.search(ask)}
    if "u/ml" in out or "mg/dl" in out or "ng/ml" in out:
        out.discard("mg")
    return frozenset(out)


def _questions() -> list[str]:
    qs: list[str] = list(CRAFTED)
    for f in sorted((REPO / "evalsets").rglob("*.jsonl")):
        qs += [d["question"] for line in f.read_text().splitlines() if line.strip() and "question" in (d := json.loads(line))]
    for rel, key in (("medquad/medquad_qa.jsonl", "question"), ("medsafetybench/medsafetybench_train.jsonl", "prompt")):
        if (SHARED / rel).is_file():
            qs += [json.loads(x)[key] for x in (SHARED / rel).read_text().splitlines() if x.strip()]
    return list(dict.fromkeys(qs))


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return _questions()


def test_asked_units_equal_searching_every_pattern(questions: list[str]) -> None:
    differ = [q for q in questions if asked_units(q) != _reference(q)]
    assert not differ, differ[:5]
    assert sum(bool(_reference(q)) for q in questions) >= 20  # the corpus does exercise the patterns


def test_every_unit_and_measure_is_found_through_the_shortcut() -> None:
    found = set().union(*(asked_units(q) for q in CRAFTED))
    assert found >= {"mg", "meq", "percent", "second", "score", "diameter", "pack-year", "cigarette", "titer", "u/ml", "iu", "mcg"}
