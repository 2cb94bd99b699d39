"""The question as the guidelines spell it: a word no indexed guideline uses, in any form, that is one typing slip
(two letters swapped, a letter left out or typed twice) from a word they do use, is read as that word.

Clinicians type fast. One swapped pair of letters in the longest word of each test-split question cost 0.14 of the
answers (stop 43, docs/benchmarks.md): the misspelt word matched no passage in BM25 and read to the gate as a
specific term the guidelines never mention. The reading is disclosed (``QueryResponse.read_as``) and only made when
it is unambiguous: the word is at least ``MIN_LEN`` letters and not an acronym, neither it nor its stem occurs in the
index nor a whole word of the encoder's WordPiece vocabulary, and one candidate is used more often than any other. A slip is what a hand does, not any one-letter edit: a
letter replaced by another, or added or dropped at either end, turns real words into other real words too often. A word several slips away, or a name the guidelines do not use at all
(a drug they never mention), is left as written.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass

from app.query.coverage import wordpieces
from app.query.termcache import per_version
from ingest.store import LoadedIndex

MIN_LEN = 6  # shorter words are too often another real word one slip away ("ileum", "ilium")
WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Reading:
    written: str
    read: str


def vocabulary(idx: LoadedIndex) -> Counter[str]:
    """How many chunks use each lowercased word (texts, titles and section headings), once per index version."""

    def build() -> Counter[str]:
        counts: Counter[str] = Counter()
        for c in idx.chunks:
            counts.update(set(WORD.findall(f"{c.text} {c.title} {' '.join(c.section_path)}".lower())))
        return counts

    return per_version(idx, "spelling.vocabulary", build)


def one_slip(word: str) -> set[str]:
    """The words ``word`` could have been meant as, one typing slip away: two neighbouring letters swapped, a letter
    left out, or a letter typed twice. The first letter is never part of a slip, a left-out letter is never the last,
    and a letter typed is never replaced by another: those edits turn real words into other real words ("rabies" and
    "babies", "clotting" and "clothing", "transferrin" and "transferring") far more often than they undo a slip."""
    n = len(word)
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(1, n - 1)}
    left_out = {word[:i] + ch + word[i:] for i in range(1, n) for ch in string.ascii_lowercase}
    doubled = {word[:i] + word[i + 1:] for i in range(1, n) if word[i] == word[i - 1]}
    return (swapped | left_out | doubled) - {word}


def _like(written: str, read: str) -> str:
    return read.upper() if written.isupper() else read.capitalize() if written[:1].isupper() else read


def correct(idx: LoadedIndex, question: str) -> tuple[str, list[Reading]]:
    """The question with each unambiguous slip read as the index's word, and the readings made."""
    vocab = vocabulary(idx)
    bm = idx.bm25
    readings: list[Reading] = []

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        lw = w.lower()
        if len(lw) < MIN_LEN or w.isupper() or lw in vocab or all(bm.in_vocab(t) for t in bm.terms(lw)):
            return w
        if wordpieces(lw) == 1:  # a whole word of the encoder's vocabulary ("denies", "complains"): not a slip
            return w
        ranked = sorted(((vocab[c], c) for c in one_slip(lw) if c in vocab), reverse=True)
        if not ranked or (len(ranked) > 1 and ranked[0][0] == ranked[1][0]):
            return w  # nothing near, or two readings as likely: leave it as written
        read = _like(w, ranked[0][1])
        readings.append(Reading(w, read))
        return read

    fixed = WORD.sub(fix, question)
    return fixed, readings
