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

from app.query.context import Draft, GenerationInput, Passage, Span, Verified, VerifiedSentence

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


class Verifier:
    """The verification stage: every draft sentence is checked against the passages it cites.

    A verbatim quote must equal its span of a citable chunk. Any other sentence must be supported by
    the text of the passages it cites (numbers with their units, content words); it then cites the
    best-matching sentence of each supporting passage. An unsupported sentence is replaced by the
    closest quotable sentence of the same passage ("repaired") or dropped; an uncited one is dropped.
    """

    def __init__(self, checker: SupportChecker | None = None) -> None:
        self.checker = checker or get_support_checker()

    def verify(self, drafts: list[Draft], inp: GenerationInput) -> Verified:
        out = Verified(sentences=[])
        for d in drafts:
            v = self.verify_one(d, inp)
            if v is None:
                out.dropped += 1
                continue
            out.sentences.append(v)
            if v.outcome == "kept":
                out.kept += 1
            else:
                out.repaired += 1
        return out

    def verify_one(self, d: Draft, inp: GenerationInput) -> VerifiedSentence | None:
        cited = [p for n in dict.fromkeys(d.passages) if (p := inp.passage(n)) is not None and p.chunk.citable]
        if not cited or not d.text.strip():
            return None  # an uncited sentence, or one citing passages it was not given, is never returned
        if d.span is not None:
            p = inp.passage(d.span[0])
            if p is not None and p.chunk.citable and p.chunk.text[d.span[1] : d.span[2]] == d.text:
                return VerifiedSentence(d.text, [d.span])
            return None
        spans = [s for p in cited if (s := self._support_span(p, d.text)) is not None]
        if spans:
            return VerifiedSentence(d.text, spans)
        return self._repair(d.text, cited, inp)

    def _support_span(self, p: Passage, claim: str) -> Span | None:
        if not self.checker.supports(p.chunk.text, claim):
            return None
        words = content_words(claim)
        best = max(p.chunk.sentences, key=lambda s: len(words & content_words(p.chunk.text[s.start : s.end])), default=None)
        return (p.n, best.start, best.end) if best is not None else (p.n, 0, len(p.chunk.text))

    def _repair(self, claim: str, cited: list[Passage], inp: GenerationInput) -> VerifiedSentence | None:
        rows = {p.row: p for p in cited}
        words = content_words(claim)
        options = [s for s in inp.pool if s.row in rows and words & content_words(s.text)]
        if not options:
            return None
        best = max(options, key=lambda s: (len(words & content_words(s.text)), s.sim))
        return VerifiedSentence(best.text, [(rows[best.row].n, best.start, best.end)], outcome="repaired")
