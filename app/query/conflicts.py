"""Conflicting evidence: top passages from different guidelines give different numbers for the same item.

Example: one guideline starts mammography at 40, another at 50. Quoting either would silently
take a side, so the service abstains with ``conflicting_evidence`` and returns both passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.query.verify import content_words

# (kind, pattern) — the number is group "n".
_FACTS = [
    ("age", re.compile(r"\b(?:age[sd]?|aged|older than|younger than|beginning at|starting at|start at)\s+(?:of\s+)?(?P<n>\d{1,3})\b", re.I)),
    ("age", re.compile(r"\b(?P<n>\d{1,3})\s*(?:years? (?:of age|old)|-year-olds?)\b", re.I)),
    ("interval", re.compile(r"\bevery\s+(?P<n>\d{1,2})\s*(?:to\s+\d+\s*)?(?:years?|months?|weeks?|days?)\b", re.I)),
    ("dose", re.compile(r"\b(?P<n>\d+(?:\.\d+)?)\s*(?:mg|mcg|µg|g|units?|mL)\b", re.I)),
    ("duration", re.compile(r"\b(?P<n>\d{1,3})\s*(?:days?|weeks?|hours?)\b(?! of age)", re.I)),
    ("threshold", re.compile(r"\b(?P<n>\d{2,3}/\d{2,3})\s*mm\s*Hg\b", re.I)),
]


def facts(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for kind, rx in _FACTS:
        for m in rx.finditer(text):
            out.setdefault(kind, set()).add(m.group("n"))
    return out


@dataclass
class Conflict:
    kind: str
    a_row: int
    a_span: tuple[int, int]
    a_values: set[str]
    b_row: int
    b_span: tuple[int, int]
    b_values: set[str]


@dataclass
class SentenceView:
    row: int
    doc_id: str
    start: int
    end: int
    text: str
    sim: float


_ASKS = [
    ("age", re.compile(r"\b(age|aged|old|older|younger|start|begin|when)\b", re.I)),
    ("interval", re.compile(r"\b(how often|interval|frequency|every|repeat|how frequently)\b", re.I)),
    ("dose", re.compile(r"\b(dose|dosage|dosing|how much|mg|mcg|units?)\b", re.I)),
    ("duration", re.compile(r"\b(how long|duration|days?|weeks?|hours?|within)\b", re.I)),
    ("threshold", re.compile(r"\b(blood pressure|threshold|target|mm ?hg|cutoff|cut-off)\b", re.I)),
]


def asked_kinds(question: str) -> set[str] | None:
    """Which kinds of number the question asks about (None: no cue, all kinds count)."""
    kinds = {k for k, rx in _ASKS if rx.search(question)}
    if "interval" in kinds and not re.search(r"\b(age|aged|old|start|begin)\b", question, re.I):
        kinds.discard("age")  # "when" in "how often ... when" is not about age
    return kinds or None


def find_conflict(
    sentences: list[SentenceView], min_sim: float, min_overlap: float = 0.3, question: str | None = None
) -> Conflict | None:
    """Two relevant sentences from different documents, about the same item, with disjoint numbers
    of a kind the question asks about."""
    wanted = asked_kinds(question) if question else None
    rel = [s for s in sentences if s.sim >= min_sim]
    rel.sort(key=lambda s: -s.sim)
    for i, a in enumerate(rel):
        fa = facts(a.text)
        if not fa:
            continue
        wa = content_words(a.text)
        for b in rel[i + 1 :]:
            if b.doc_id == a.doc_id:
                continue
            fb = facts(b.text)
            wb = content_words(b.text)
            if not wa or not wb or len(wa & wb) / len(wa | wb) < min_overlap:
                continue
            for kind in sorted(fa.keys() & fb.keys()):
                if wanted is not None and kind not in wanted:
                    continue
                if fa[kind].isdisjoint(fb[kind]):
                    return Conflict(kind, a.row, (a.start, a.end), fa[kind], b.row, (b.start, b.end), fb[kind])
    return None
