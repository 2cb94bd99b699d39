"""The best guideline's own recommendations: passages under its recommendations heading that ranked below the cut.

A long clinician question ("a 58-year-old asks for a vitamin D level at her annual exam … what is the USPSTF
grade for screening?") matches the discussion around a recommendation better than the short statement itself
("The USPSTF concludes that the current evidence is insufficient … (I statement)"): retrieval finds the right
guideline and returns five of its passages, none of them the statement. On the fit split of the clinician set
the evidence sentence was in the quoted passages for 0.828 of answerable questions; adding the top guideline's
two best-ranked passages under a recommendations heading raised that to 0.891 (three: 0.897; the guideline's
next passages whatever their heading: 0.859; passages holding a recommendation or a grade: 0.869).
See docs/benchmarks.md ("Stop 26").

A recommendations heading is one that *is* the recommendations — "Recommendations", "Major Recommendations",
"Summary of Recommendations", "2. Recommendations for Average-Risk Women" — not one about them ("Rating Scheme for the
Strength of the Recommendations", "Description of Methods Used to Formulate the Recommendations").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from app.query.asks import ITEM_PATTERNS

RECOMMENDATIONS_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:(?:major|key|main|summary\s+of(?:\s+the)?)\s+)?recommendations?"
    r"(?:\s+(?:summary|statements?|and\s+evidence)|\s+for\s+.+)?$",
    re.IGNORECASE,
)


class _Chunk(Protocol):
    @property
    def doc_id(self) -> str: ...
    @property
    def section_path(self) -> Sequence[str]: ...
    @property
    def citable(self) -> bool: ...
    @property
    def content_sha(self) -> str: ...
    @property
    def text(self) -> str: ...


def under_recommendations(chunk: _Chunk) -> bool:
    """Whether a heading above the chunk is a recommendations heading (a document's title never is one: it says more)."""
    return any(RECOMMENDATIONS_HEADING.match(h.strip()) for h in chunk.section_path)


def recommended_rows(chunks: Sequence[_Chunk], kept: list[int], ranked: Iterable[int], n: int) -> list[int]:
    """Up to ``n`` rows, in ``ranked`` order, of the document of ``kept[0]`` under a recommendations heading,
    citable, and neither in ``kept`` nor the same text as one of them."""
    if n <= 0 or not kept:
        return []
    doc = chunks[kept[0]].doc_id
    seen = {chunks[r].content_sha for r in kept}
    out: list[int] = []
    for r in ranked:
        ch = chunks[r]
        if ch.doc_id != doc or not ch.citable or ch.content_sha in seen or not under_recommendations(ch):
            continue
        seen.add(ch.content_sha)
        out.append(r)
        if len(out) >= n:
            break
    return out


# A recommendation statement carrying its grade or strength: "(B recommendation)", "(I statement)", "(recommendation
# category: A; evidence type: 4)", "(Strong for; Reviewed, New-added)", "(Weak Recommendation, Low-Quality Evidence)".
GRADE_LABEL = re.compile(
    r"\(\s*[A-D]\s+recommendation\s*\)|\bI\s+statement\b|recommendation\s+category\s*:?\s*[A-D]\b|\b(?:strong|weak)\s+(?:for|against)\b"
    r"|\bgrade\s*:?\s*[A-D]\b|\b(?:strong|weak|conditional)\s+recommendation\b",
    re.IGNORECASE,
)
# Headings that define the grades or list resources rather than state a recommendation ("Definitions", "What the USPSTF
# Grades Mean", "Strength of Recommendations", "Useful Resources"), and table rows ("I Statement | The USPSTF concludes …",
# "Strong recommendation High-quality evidence | Benefits clearly outweigh …") or rows about "the service": the scale,
# not this guideline's statement.
_SCALE_HEADING = re.compile(r"definition|grades?\s+mean|strength\s+of|rating|resources|grading", re.IGNORECASE)
_SCALE_ROW = re.compile(r"\|\s*|\bthe service\b", re.IGNORECASE)


def graded_statement(chunk: _Chunk) -> bool:
    """Whether the chunk states one of its guideline's recommendations with its grade."""
    if not chunk.citable or not under_recommendations(chunk) or any(_SCALE_HEADING.search(h) for h in chunk.section_path[1:]):
        return False
    return any(not _SCALE_ROW.search(line) for line in chunk.text.splitlines() if GRADE_LABEL.search(line))


def graded_rows_by_doc(chunks: Sequence[_Chunk]) -> dict[str, list[int]]:
    """Each document's graded-statement rows, in document order."""
    out: dict[str, list[int]] = {}
    for r, ch in enumerate(chunks):
        if graded_statement(ch):
            out.setdefault(ch.doc_id, []).append(r)
    return out


def scope_rows_by_doc(chunks: Sequence[_Chunk]) -> dict[str, list[int]]:
    """Each document's citable rows that say whom a recommendation applies to ("This recommendation applies to …",
    "It does not apply to …"; ``asks.ITEM_PATTERNS["scope"]``), in document order."""
    rx = ITEM_PATTERNS["scope"]
    out: dict[str, list[int]] = {}
    for r, ch in enumerate(chunks):
        if ch.citable and rx.search(ch.text):
            out.setdefault(ch.doc_id, []).append(r)
    return out
