"""Verification: every answer sentence must be supported by the passages it cites.

The support judge is a small Protocol so evaluation can swap in an LLM judge. The default,
:class:`LexicalSupportChecker`, is strict and deterministic: every number (dose, age, interval,
threshold, with its unit) in the claim must occur in the cited text, and most of the claim's
content words must occur there too. Extractive answers are verbatim quotes, so they pass by
construction; the check guards every other producer of sentences.
"""

from __future__ import annotations

import re
from typing import Protocol

_NUM = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)(?:\s*(%|percent|mg|mcg|µg|g|kg|ml|mL|l|mmol|mmhg|mm hg|years?|months?|weeks?|days?|hours?|minutes?|times?))?", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z\-]+")
_STOP = frozenset(
    "a an and are as at be been but by can could did do does for from had has have if in into is it its may might "
    "more most must no not of on or should such than that the their then there these they this those to was were "
    "what when where which who whom why will with would you your also any all each other some".split()
)


class SupportChecker(Protocol):
    name: str

    def supports(self, premise: str, claim: str) -> bool: ...


def numbers(text: str) -> set[str]:
    """Numbers in a text, normalized ('1,000' → '1000'), with a unit when one follows."""
    out = set()
    for m in _NUM.finditer(text):
        n = m.group(1).replace(",", "")
        unit = (m.group(2) or "").lower().rstrip("s").replace(" ", "")
        out.add(f"{n}{unit}" if unit else n)
    return out


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


class LexicalSupportChecker:
    name = "lexical-v1"

    def __init__(self, min_word_coverage: float = 0.8) -> None:
        self.min_word_coverage = min_word_coverage

    def supports(self, premise: str, claim: str) -> bool:
        if not claim.strip():
            return False
        if claim.strip() in premise:
            return True
        p_nums = numbers(premise)
        bare = {re.sub(r"[a-z%µ]+$", "", n) for n in p_nums}
        for n in numbers(claim):
            if n not in p_nums and re.sub(r"[a-z%µ]+$", "", n) not in bare:
                return False
        words = content_words(claim)
        if not words:
            return False
        covered = len(words & content_words(premise)) / len(words)
        return covered >= self.min_word_coverage


def get_support_checker() -> SupportChecker:
    return LexicalSupportChecker()
