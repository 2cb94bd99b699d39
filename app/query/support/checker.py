"""The premise sentences a claim rests on, and :class:`GroundingChecker`, which checks the claim against them."""

from __future__ import annotations

import re

from app.query.support.content import content_lemmas, content_supported
from app.query.support.numbers import numbers_supported, quantities
from app.query.support.parsing import is_covered, parse
from app.query.support.polarity import polarity_agrees

_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a plain text (for a premise that comes without ingest's sentence spans)."""
    out, pos = [], 0
    for m in _SPLIT.finditer(text):
        if text[pos : m.start()].strip():
            out.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        out.append((pos, len(text.rstrip())))
    return out


def align(text: str, spans: list[tuple[int, int]], claim: str, max_sentences: int = 3) -> list[tuple[int, int]]:
    """The premise sentences a claim rests on: the best-overlapping one, then any that add claim words (greedy cover)."""
    want = {lem for lem, _ in content_lemmas(parse(claim))} | {n for n, _ in quantities(claim)}

    def words(sp: tuple[int, int]) -> set[str]:
        seg = text[sp[0] : sp[1]]
        return {w for w in want if is_covered(w, parse(seg).bag)} | {n for n, _ in quantities(seg) if n in want}

    cover = {sp: words(sp) for sp in spans}
    chosen: list[tuple[int, int]] = []
    got: set[str] = set()
    while len(chosen) < max_sentences:
        best = max((sp for sp in spans if sp not in chosen), key=lambda sp: len(cover[sp] - got), default=None)
        if best is None or not (cover[best] - got):
            break
        chosen.append(best)
        got |= cover[best]
    return sorted(chosen)


class GroundingChecker:
    name = "grounding-v1"

    def __init__(self, min_coverage: float = 0.5) -> None:
        self.min_coverage = min_coverage

    def supports(self, premise: str, claim: str) -> bool:
        return self.supporting_spans(premise, split_sentences(premise), claim) is not None

    def supporting_spans(self, text: str, spans: list[tuple[int, int]], claim: str) -> list[tuple[int, int]] | None:
        """Spans of ``text`` (among its sentence ``spans``) that together support ``claim``; None if they do not."""
        claim = claim.strip()
        if not claim or not text.strip() or claim.endswith("?"):
            return None  # nothing to check; a question is not a claim
        at = text.find(claim)
        if at >= 0:
            return [(at, at + len(claim))]
        chosen = align(text, spans or [(0, len(text))], claim)
        if not chosen:
            return None
        premise = " ".join(text[a:b] for a, b in chosen)
        if not numbers_supported(premise, claim):
            return None
        pp, cp = parse(premise), parse(claim)
        each = [parse(text[a:b]) for a, b in chosen]
        if polarity_agrees(pp, cp, each) and content_supported(pp, cp, self.min_coverage, premise, claim):
            return chosen
        return None
