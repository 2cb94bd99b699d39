"""Where a recommendation statement ends, when it runs past its first sentence: the span an answer quotes.

Ingest splits a chunk into sentences; some statements are more than one of them. An answer that quotes only the
first says "… recommends offering one of the following medications:" and stops, or quotes a recommendation without
the grade that closes it. Read only once the answer's sentences are chosen: the gate and the sentence scorer see
the sentences as ingest split them (widening what they read moved the fit, docs/benchmarks.md, stops 32 and 52).

- A two-sentence graded statement (stop 52): sentence *i* recommends, the next neither recommends nor is a label,
  the one after is the grade label.
- A statement with a list (stop 53): a sentence that introduces a list ("… include:", "… any of the following
  conditions:") runs through the list's entries and through a grade label that closes the list; a recommending
  sentence whose next sentence introduces a list runs through both. A list entry is quoted as the whole statement
  (it says nothing by itself: "Ongoing, random urine drug testing (including appropriate confirmatory testing)").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from app.query.quotable import GRADE_LABEL, TRAILING_LABEL

# A recommending sentence ("The USPSTF recommends …", "… concludes that the current evidence is insufficient …").
_RECOMMENDS = re.compile(r"\b(?:recommends?|concludes)\b", re.IGNORECASE)
# What ends a list without belonging to it: the next statement's heading ("Recommendation 8", "12."), a web address.
_NOT_ENTRY = re.compile(r"\s*(?:Recommendations?\s+\d+[a-z]?|\d+\.)\s*$|.*(?:https?://|www\.)", re.IGNORECASE)
_LABELLED = re.compile(r"\(\s*(?:(?:grade\s+)?[A-D]\s+recommendation|I\s+statement|strong|weak|moderate|conditional|consensus)\b", re.IGNORECASE)
_OPEN_PAREN = re.compile(r"^\s*\(\s+")  # "( Strong for; Reviewed, New-replaced )", as some VA/DoD summaries write it
MAX_ENTRIES = 12  # a longer list is quoted as before (its first sentence only)
MAX_ENTRY_WORDS = 30
MAX_LIST_CHARS = 1000
MIN_LEAD_WORDS = 4


def whole_label(text: str) -> bool:
    """A sentence that is only a grade label: "(B recommendation)", "( Strong for; Reviewed, New-replaced )"."""
    text = _OPEN_PAREN.sub("(", text)
    if GRADE_LABEL.match(text):
        return True
    m = TRAILING_LABEL.match(text)
    return m is not None and not text[m.end():].strip()


def _entry(text: str) -> bool:
    """A list entry as the splitter leaves it: a line with no closing punctuation, not a label or a heading."""
    t = text.strip()
    return (bool(t) and t[-1] not in ".!?:;" and len(t.split()) <= MAX_ENTRY_WORDS and "|" not in t and not whole_label(t)
            and _NOT_ENTRY.match(t) is None and not _RECOMMENDS.search(t))


def _texts(text: str, sentences: Sequence[Any], lo: int, hi: int) -> list[str]:
    return [text[s.start : s.end] for s in sentences[lo:hi]]


def list_end(text: str, sentences: Sequence[Any], i: int) -> int | None:
    """Sentence ``i`` introduces a list (a clause of at least ``MIN_LEAD_WORDS`` words ending in ":", not a heading
    such as "Definitions:"): the index of its last entry, or of the grade label that closes the list; None when no
    entry follows, or the list is longer than ``MAX_ENTRIES`` or ``MAX_LIST_CHARS``."""
    lead = text[sentences[i].start : sentences[i].end].rstrip()
    if not lead.endswith(":") or len(lead.split()) < MIN_LEAD_WORDS:
        return None
    k = i + 1
    while k < len(sentences) and k - i <= MAX_ENTRIES + 1 and _entry(text[sentences[k].start : sentences[k].end]):
        k += 1
    if k == i + 1 or k - i > MAX_ENTRIES:
        return None
    if k < len(sentences) and whole_label(text[sentences[k].start : sentences[k].end]):
        k += 1
    last = k - 1
    return last if sentences[last].end - sentences[i].start <= MAX_LIST_CHARS else None


def dangling_lead(text: str, sentences: Sequence[Any], i: int) -> bool:
    """Sentence ``i`` introduces a list that would not be quoted with it: it ends in ":" and is the chunk's last
    sentence ("… recommends against using the following tests in routine diagnosis …:", its tests in the next chunk),
    or its entries are not part of its statement ("Assessment of presence and access to lethal means should
    include:", followed by full sentences, stop 55). An answer does not quote it: it would name nothing."""
    if not text[sentences[i].start : sentences[i].end].rstrip().endswith(":"):
        return False
    return i == len(sentences) - 1 or statement_end(text, sentences, i) is None


def _lead(text: str, sentences: Sequence[Any], i: int) -> int | None:
    """Where a statement with a list that sentence ``i`` opens ends (a sentence index), else None."""
    if (end := list_end(text, sentences, i)) is not None:
        return end
    first = text[sentences[i].start : sentences[i].end]
    if i + 1 < len(sentences) and _RECOMMENDS.search(first) and not _LABELLED.search(first):  # not closed by its own grade
        nxt = text[sentences[i + 1].start : sentences[i + 1].end]
        if not _RECOMMENDS.search(nxt) and (end := list_end(text, sentences, i + 1)) is not None:
            return end
    return None


def statement_end(text: str, sentences: Sequence[Any], i: int) -> int | None:
    """Where the statement that sentence ``i`` opens ends (a character offset), when it runs past sentence ``i``
    (and past a grade label right after it, which ``with_trailing_label`` reads): a two-sentence graded statement,
    or a statement with a list."""
    if (k := _lead(text, sentences, i)) is not None:
        return int(sentences[k].end)
    if i + 2 >= len(sentences):
        return None
    a, b, c = _texts(text, sentences, i, i + 3)
    if GRADE_LABEL.match(c) and not GRADE_LABEL.match(b) and _RECOMMENDS.search(a) and not _RECOMMENDS.search(b):
        return int(sentences[i + 2].end)
    return None


def entry_head(text: str, sentences: Sequence[Any], k: int) -> int | None:
    """Sentence ``k`` is an entry of a list: the index of the sentence its statement opens with (the recommending
    sentence before the list's lead-in, or the lead-in itself), else None."""
    if not _entry(text[sentences[k].start : sentences[k].end]):
        return None
    j = k - 1
    while j >= 0 and k - j <= MAX_ENTRIES and _entry(text[sentences[j].start : sentences[j].end]):
        j -= 1
    if j < 0:
        return None
    end = list_end(text, sentences, j)
    if end is None or end < k:
        return None
    if j > 0 and _lead(text, sentences, j - 1) == end:
        return j - 1
    return j
