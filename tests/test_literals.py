"""A pattern's necessary words (app/safety/literals.py) must be in every text it matches: read by hand on small patterns,
then on thousands of matches of every injection pattern drawn from the pattern's own parse, and the injection screen's
hits with the words against searching every pattern, over every question the repository and the shared data hold."""

from __future__ import annotations

import json
import random
import re
import re._constants as sre_c
import re._parser as sre_p
import string
from pathlib import Path

import pytest

from app.safety import injection
from app.safety.literals import Prefiltered, ascii_lower, necessary_literals
from ingest.injection import INJECTION_PATTERNS
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
ALL = injection._INGEST + injection._STRONG + injection._WEAK


@pytest.mark.parametrize(
    ("rx", "words"),
    [
        (r"\bignore\s+all\b", {"ignore"}),
        (r"\b(ignore|disregard)\b[^.]{0,9}\brules\b", {"ignore", "disregard"}),  # both sides necessary: the longer kept
        (r"(abc|de)f", {"abc", "de"}),  # more selective than "f"
        (r"(abc|def)?xyz", {"xyz"}),  # an optional group gives nothing
        (r"(?:ab|cd)+efg", {"efg"}),
        (r"(?:abcd|cdef){2,}", {"abcd", "cdef"}),
        (r"[bc]+", None),
        (r"x?y*", None),
        (r"(?-i:DAN)", {"dan"}),
        (r"règles", set()),  # no ASCII character matches "è": the pattern cannot match ASCII text
        (r"(ignore|oublie[zr]?)\b.{0,9}(instructions|règles)", {"instructions"}),  # "règles" is no alternative there
        (r"İstanbul", None),  # "İ" matches "i" under IGNORECASE: which "i" in text.lower() would not tell
        (r"\bſtop\b", None),
        (r"(?=abc)abc", {"abc"}),
        (r"x(?!abc)", {"x"}),  # a look-ahead holds nothing the match must
        (r"\bMOde\b", {"mode"}),
    ],
)
def test_words_read_from_the_parse(rx: str, words: set[str] | None) -> None:
    got = necessary_literals(re.compile(rx, re.IGNORECASE))
    assert (None if got is None else set(got)) == words


def test_a_pattern_that_cannot_match_ascii_text() -> None:
    p = Prefiltered.of(re.compile(r"\b(sans citer|consignes précédentes)\b", re.IGNORECASE))
    assert p.words == frozenset({"sans citer"})
    assert not p.search("consignes precedentes", ascii_lower("consignes precedentes"))
    assert p.search("Consignes Précédentes", ascii_lower("Consignes Précédentes"))


def test_text_that_is_not_ascii_is_always_searched() -> None:
    p = Prefiltered.of(re.compile(r"\bsystem\b", re.IGNORECASE))
    assert p.words == frozenset({"system"})
    assert p.search("ſystem", ascii_lower("ſystem"))  # "ſ" folds into "s" under IGNORECASE; "ſystem".lower() does not
    assert ascii_lower("ſystem") is None
    assert not p.search("the sys tem", ascii_lower("the sys tem"))


POOL = string.ascii_letters + string.digits + " .,;:!?-_/'\"()[]<>|#*=+\n\t"


def _in_class(ch: str, items: list) -> bool:
    neg = False
    hit = False
    for op, av in items:
        if op is sre_c.NEGATE:
            neg = True
        elif op is sre_c.LITERAL:
            hit |= ch == chr(av)
        elif op is sre_c.RANGE:
            hit |= av[0] <= ord(ch) <= av[1]
        elif op is sre_c.CATEGORY:
            name = str(av)
            test = {"DIGIT": ch.isdigit(), "SPACE": ch.isspace(), "WORD": ch.isalnum() or ch == "_"}
            for key, val in test.items():
                if name.endswith("_NOT_" + key):
                    hit |= not val
                elif name.endswith("_" + key):
                    hit |= val
        else:
            raise NotImplementedError(op)
    return hit != neg


def _draw(items, rng: random.Random) -> str:
    out = []
    for op, av in items:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op is sre_c.NOT_LITERAL:
            out.append(rng.choice([c for c in POOL if c != chr(av)]))
        elif op is sre_c.ANY:
            out.append(rng.choice(POOL))
        elif op is sre_c.IN:
            out.append(rng.choice([c for c in POOL if _in_class(c, av)] or ["?"]))
        elif op is sre_c.AT:  # a word boundary drawn as a space; a draw that still breaks one is dropped below
            out.append(" " if av is sre_c.AT_BOUNDARY else "")
        elif op is sre_c.SUBPATTERN:
            out.append(_draw(av[-1], rng))
        elif op is sre_c.BRANCH:
            out.append(_draw(rng.choice(av[1]), rng))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi = av[0], av[1]
            hi = lo + 3 if hi == sre_c.MAXREPEAT else min(hi, lo + 3)
            out.append("".join(_draw(av[2], rng) for _ in range(rng.randint(lo, hi))))
        else:  # look-arounds: draw the rest and let the check below keep only real matches
            continue
    return "".join(out)


def _matches(rx: re.Pattern[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    parsed = sre_p.parse(rx.pattern, rx.flags).data
    got = []
    for _ in range(n * 4):
        core = _draw(parsed, rng)
        core = "".join(c.upper() if rng.random() < 0.3 else c for c in core)  # the patterns ignore case: so may the text
        text = rng.choice(["", "Please ", "my patient asks: "]) + core + rng.choice(["", ".", " now?", " thanks"])
        if rx.search(text):
            got.append(text)
        if len(got) >= n:
            break
    return got


@pytest.mark.parametrize(("name", "pre"), ALL, ids=[n for n, _ in ALL])
def test_every_drawn_match_holds_one_of_the_words(name: str, pre: Prefiltered) -> None:
    texts = _matches(pre.pattern, 300, seed=hash(name) % 10_000)
    assert len(texts) >= 50 or pre.words is None, f"{name}: only {len(texts)} matches drawn"
    for t in texts:
        assert pre.search(t, ascii_lower(t)), (name, sorted(pre.words or ()), t)


def test_most_patterns_have_words() -> None:
    assert sum(p.words is not None for _, p in ALL) >= len(ALL) - 5


def _reference(question: str) -> list[str]:
    """injection_hits as written before the words: every pattern searched."""
    addressed = bool(injection._ADDRESS.search(question))
    hits = [n for n, rx in INJECTION_PATTERNS if (n not in injection.WEAK_INGEST or addressed) and rx.search(question)]
    hits += [n for n, rx in injection.QUESTION_PATTERNS if rx.search(question)]
    if addressed:
        hits += [n for n, rx in injection.WEAK_PATTERNS if rx.search(question)]
    return hits


def _texts() -> list[str]:
    texts = []
    for f in sorted((REPO / "app" / "safety" / "data").glob("*.jsonl")):
        texts += [d.get("text") or d["question"] for x in f.read_text().splitlines() if x.strip() for d in [json.loads(x)]]
    for f in sorted((REPO / "evalsets").rglob("*.jsonl")):
        texts += [d["question"] for x in f.read_text().splitlines() if x.strip() and "question" in (d := json.loads(x))]
    for rel, key in (("medquad/medquad_qa.jsonl", "question"), ("medsafetybench/medsafetybench_train.jsonl", "prompt")):
        assert (SHARED / rel).is_file(), f"shared data missing: {SHARED / rel}"
        texts += [json.loads(x)[key] for x in (SHARED / rel).read_text().splitlines() if x.strip()]
    return texts


def test_injection_hits_are_those_of_every_pattern() -> None:
    texts = _texts()
    hit = 0
    for t in texts:
        for variant in (t, "You must " + t.swapcase()):  # as asked; addressing the service, case swapped
            got = injection.injection_hits(variant)
            assert got == _reference(variant), variant
            hit += bool(got)
    assert len(texts) > 20_000 and hit > 200  # the comparison covers questions that hit, not only clean ones
