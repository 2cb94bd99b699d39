"""Verification: every answer sentence must be supported by the passages it cites, or it is not returned.

Per draft sentence (text + the passage numbers it claims to rest on):
- citations of passage numbers that were not given, or of passages that may not be cited
  (instruction-like), are dropped; a sentence left uncited is dropped, never returned;
- a sentence that reads as an instruction to the model (prompt injection echoed back) is dropped;
- a verbatim quote (``span`` set, the extractive generator) must equal its span of the chunk;
- any other sentence must be supported by the sentences of a cited passage it rests on
  (:class:`app.query.support.GroundingChecker`: numbers with units, negation and direction, the
  naming words and most content words); it then cites exactly those sentences (spans into the chunk);
- an unsupported sentence is replaced by the quotable sentence of the same passage(s) that overlaps it
  most ("repaired"), or dropped. The caller abstains with ``unsupported`` when nothing remains.
The support check is a one-method Protocol, so any checker can be plugged in; evaluation uses its own
judge (app/eval/judges.py), never this one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Protocol

from app.query.context import Draft, GenerationInput, Passage, Span, Verified, VerifiedSentence
from app.query.support import GroundingChecker, parse
from ingest.injection import is_instruction_like

log = logging.getLogger("guideground.verify")


class SupportChecker(Protocol):
    name: str

    def supports(self, premise: str, claim: str) -> bool: ...


def get_support_checker() -> SupportChecker:
    return GroundingChecker()


def _words(text: str) -> set[str]:
    p = parse(text)
    return {lem for lem, pos in zip(p.lemmas, p.pos, strict=True) if pos in {"NOUN", "PROPN", "ADJ", "VERB", "NUM"}}


class Verifier:
    """The verification stage over drafts: kept / repaired / dropped, with exact spans for every citation."""

    def __init__(self, checker: SupportChecker | None = None) -> None:
        self.checker = checker or get_support_checker()

    def verify(
        self, drafts: Iterable[Draft], inp: GenerationInput, on_verified: Callable[[VerifiedSentence], None] | None = None
    ) -> Verified:
        """Verify drafts as they come (a streaming generator's iterator is fine); ``on_verified`` hears each sentence that passes."""
        out = Verified(sentences=[])
        seen: set[str] = set()
        for d in drafts:
            v = self.verify_one(d, inp)
            if v is None or v.text in seen:  # a repair may land on a sentence already returned
                out.dropped += 1
                continue
            seen.add(v.text)
            out.sentences.append(v)
            if v.outcome == "kept":
                out.kept += 1
            else:
                out.repaired += 1
            if on_verified is not None:
                on_verified(v)
        return out

    def verify_one(self, d: Draft, inp: GenerationInput) -> VerifiedSentence | None:
        cited = [p for n in dict.fromkeys(d.passages) if (p := inp.passage(n)) is not None and p.chunk.citable]
        text = d.text.strip()
        if not cited or not text:
            return None  # an uncited sentence, or one citing only passages it was not given, is never returned
        if d.span is not None:
            p = inp.passage(d.span[0])
            if p is not None and p.chunk.citable and p.chunk.text[d.span[1] : d.span[2]] == d.text:
                return VerifiedSentence(d.text, [d.span])
            return None
        if is_instruction_like(text):
            log.warning("dropping an instruction-like generated sentence")
            return None
        spans = [s for p in cited if (s := self._support_span(p, text)) is not None]
        if spans:
            return VerifiedSentence(text, spans)
        return self._repair(text, cited, inp)

    def _support_span(self, p: Passage, claim: str) -> Span | None:
        """One span of ``p``'s chunk covering the sentences that support ``claim`` (None: not supported)."""
        ch = p.chunk
        sents = [(s.start, s.end) for s in ch.sentences] or [(0, len(ch.text))]
        finder = getattr(self.checker, "supporting_spans", None)
        if callable(finder):
            found = finder(ch.text, sents, claim)
            if not found:
                return None
            return (p.n, min(a for a, _ in found), max(b for _, b in found))
        if not self.checker.supports(ch.text, claim):
            return None
        words = _words(claim)
        best = max(sents, key=lambda sp: len(words & _words(ch.text[sp[0] : sp[1]])))
        return (p.n, best[0], best[1])

    def _repair(self, claim: str, cited: list[Passage], inp: GenerationInput) -> VerifiedSentence | None:
        """The quotable sentence of the cited passages that shares most words with the claim (ties: closer to the question)."""
        rows = {p.row: p for p in cited}
        words = _words(claim)
        options = [(len(words & _words(s.text)), s.sim, s) for s in inp.pool if s.row in rows]
        options = [o for o in options if o[0] >= 2]
        if not options:
            return None
        _, _, best = max(options, key=lambda o: (o[0], o[1]))
        return VerifiedSentence(best.text, [(rows[best.row].n, best.start, best.end)], outcome="repaired")


# The plain word set the conflict check (app/query/conflicts.py) compares sentences with; unchanged.
_WORD = re.compile(r"[a-z][a-z\-]+")
_STOP = frozenset(
    "a an and are as at be been but by can could did do does for from had has have if in into is it its may might "
    "more most must no not of on or should such than that the their then there these they this those to was were "
    "what when where which who whom why will with would you your also any all each other some".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}
