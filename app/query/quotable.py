"""What a sentence must be to be quoted: prose that says something by itself, its grade label with it.

Rules on one sentence's text (or one chunk's sentences), no index and no question: a stray heading, a form's blanks, a
table cell, a pointer elsewhere in the guideline, a list fragment or a bibliography is never quoted; a grade label set
apart after a recommendation is quoted with it. ``app.query.answer`` applies them once per chunk (``QUOTABLE``).
"""

from __future__ import annotations

import functools
import re

from ingest.injection import is_instruction_like

MIN_CHARS = 25
_HAS_LETTER = re.compile(r"[A-Za-z]{3}")


# Not prose: a form's blanks and checkbox options, a table cell in parentheses, a figure caption.
_FORM = re.compile(r"_{3,}|^\s*(?:yes\s+no|no\s+yes|not applicable)\b|^\s*\([^()]*\)\s*$|\((?:figure|table|box) \w+\)\s*$", re.IGNORECASE)
# A match of _FORM holds "_" or "(", or is its options at the start: a sentence with neither is not searched (these rules
# run on every sentence of every chunk an answer first reads; tests/test_quotable_fast.py).
_FORM_START = re.compile(r"\s*(?:yes\s+no|no\s+yes|not applicable)\b", re.IGNORECASE)
_URL = re.compile(r"https?://\S+|www\.\S+")
# A row of a grade-definitions table ("D | The USPSTF recommends against the service.", "I Statement | The USPSTF
# concludes …"): what a grade letter means, not the grade given to anything — quoted beside a question it reads as
# the recommendation itself.
_GRADE_ROW = re.compile(r"^\s*(?:grade\s+)?(?:[A-D]|I(?:\s+statement)?)\s*\|", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'\-]+")
# At most this many words, no closing punctuation, no number and no verdict: a label, not a sentence (stop 34).
# "Adults aged 45 to 75 years" and "Chest radiography (not recommended)" say something and stay quotable.
_LABEL_WORDS = 5
_SAYS_SOMETHING = re.compile(r"\d|recommend", re.IGNORECASE)


def _form_like(text: str) -> bool:
    if "_" not in text and "(" not in text and _FORM_START.match(text) is None:
        return False
    return _FORM.search(text) is not None


def _heading_like(text: str, all_words: list[str]) -> bool:
    """A title or heading: most of its words capitalised, and no closing punctuation unless it is short
    ("Respiratory Hygiene/Cough Etiquette", "Summary Chart of U.S. Medical Eligibility Criteria …").
    ``all_words``: ``_WORDS.findall(text)``."""
    words = [w for w in all_words if len(w) > 3]
    if text.rstrip()[-1:] in ".!?:;" and len(all_words) > 6:
        return False  # a short title may end in a full stop ("Treatments for Acute Pain.")
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


# Longer labels: a topic list's entries and a checklist's cut-off items ("Opioid selection, dosage, duration, follow-up,
# and discontinuation", "L. HCP wear a facemask (e.g., surgical mask) when placing a"). The gate reads them (they tell
# what the guideline covers); an answer does not quote them (stop 37).
_ANSWER_LABEL_WORDS = 10
_VERDICT = re.compile(r"\d|recommend|indicated|\bavoid|\bshould\b|\bmust\b", re.IGNORECASE)


def answer_label(text: str) -> bool:
    """A label an answer does not quote: at most ``_ANSWER_LABEL_WORDS`` words, no closing punctuation, no number
    and no verdict."""
    return (text.rstrip()[-1:] not in ".!?:;" and len(_WORDS.findall(text)) <= _ANSWER_LABEL_WORDS  # most sentences end in "."
            and not _VERDICT.search(text))


# A list's enumerators run together ("a. Nonpelvic b. Pelvic …", "i. Upon hire, prior to provision of care ii."): a
# table or checklist flattened by its parser. A piece of a sentence the splitter cut starts with a lower-case word
# ("adherence to hand hygiene.", "because of its activity …"); "eGFR" and "iPLEDGE" are names, not pieces.
_ENUMERATOR = re.compile(r"(?<!\S)(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\.(?!\S)")
_CUT_PIECE = re.compile(r"\s*[a-z][a-z'\-]*(?=[\s,;:.]|$)")
# What says nothing by itself: a pointer to another part of the guideline ("See the "Clinical Considerations" section
# below for …", "Table 8 in the original guideline document lists …", "… is available in the original guideline
# document."), a glossary ("Abbreviations: ARV = …"), a run of table cells with fewer than 3 distinct words ("≥20 yrs:1
# ≥20 yrs:1 …"), and a checklist item cut off mid-clause ("H. Multi-dose vials to be used for more than one patient are").
# Anchored patterns (``match``) and a substring test first: this runs on every candidate sentence of every answer.
_POINTER_START = re.compile(
    r"\s*(?:(?:see|refer to)\b.*\b(?:sections?|figures?|tables?|appendix|appendices|chapters?|recommendations?|original|box|"
    r"below|above|pages?)\b|(?:table|figure|appendix)\s+\S+\s+(?:in|of)\s+the\s+original\b|(?:abbreviations?|key)\s*:)",
    re.IGNORECASE,
)
_POINTER_END = re.compile(r"\b(?:is|are)\s+(?:available|provided|given|described|listed|found)\s+in\s+the\s+original\s+guideline"
                          r"(?:\s+document)?\.?\s*$", re.IGNORECASE)
_DANGLING = frozenset("a an the and or of to for with in on by is are was were be that which when if as from".split())


def answer_fragment(text: str) -> bool:
    """A piece of a list or of a sentence, or a sentence that says nothing by itself, which an answer does not quote
    (stop 45): two or more list enumerators, a start in a lower-case word, a pointer elsewhere, a glossary, table
    cells, a clause cut off. The gate still reads it. A grade label it opens with belongs to the sentence before it
    ("(B recommendation) See the … section below …") and is read past."""
    if text[:1] == "(" and (m := TRAILING_LABEL.match(text)):
        text = text[m.end():]
    if _CUT_PIECE.match(text) or _POINTER_START.match(text):
        return True
    if "original guideline" in text and _POINTER_END.search(text[-80:]):
        return True
    if ". " in text and len(_ENUMERATOR.findall(text)) >= 2:
        return True
    tail = text.rstrip()
    if tail[-1:] not in ".!?:;)" and tail.rsplit(None, 1)[-1].lower() in _DANGLING:
        return True
    seen: set[str] = set()
    for m in _WORDS.finditer(text):  # table cells: fewer than 3 distinct words (stops at the third)
        seen.add(m.group().lower())
        if len(seen) >= 3:
            return False
    return True


def quotable(text: str, screened: bool = False) -> bool:
    """Sentences worth quoting: real prose — not a stray heading, a form's blanks or options, a table cell, a
    caption, a pointer to a web page, or a planted instruction. ``screened``: the text is part of a citable chunk,
    which ingest found free of instruction-like text as a whole (``Chunk.citable``), so it is not searched again."""
    if len(text) < MIN_CHARS or not _HAS_LETTER.search(text) or (not screened and is_instruction_like(text)):
        return False
    words = _WORDS.findall(text)
    if _form_like(text) or _GRADE_ROW.match(text) or _heading_like(text, words):
        return False
    if _URL.search(text) and len(_WORDS.findall(_URL.sub(" ", text))) < 15:
        return False  # "For complete guidance, see: https://…"
    n_words = len(words)
    if n_words <= _LABEL_WORDS and text.rstrip()[-1:] not in ".!?:;" and not _SAYS_SOMETHING.search(text):
        return False  # a label: a list entry or a heading in sentence case ("Monitoring of renal function")
    return n_words >= 4


_NON_WORD = re.compile(r"[^a-z0-9]+")


def squash(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


@functools.lru_cache(maxsize=1024)
def _squashed_title(title: str) -> str:
    return squash(title)  # the same for every sentence of a chunk (of a guideline)


def sentence_prior(text: str, title: str) -> float:
    """Small score adjustments: a restated title says nothing; a fragment is a weaker answer."""
    st, tt = squash(text), _squashed_title(title)
    if st and (st in tt or (len(tt) > 20 and tt in st and len(st) < len(tt) * 1.3)):
        return -1.0
    return 0.0 if text.rstrip()[-1:] in ".!?:)" else -0.05


# A recommendation's grade set apart after it: "… in adults. (I statement)", "… (B recommendation)". Not quotable on
# its own; quoted with the sentence before it, so a recommendation comes with its grade.
GRADE_LABEL = re.compile(r"^\s*\((?:(?:grade\s+)?[A-D]\s+recommendation|I\s+statement|grade\s+[A-DI])\)\.?\s*$", re.IGNORECASE)
# The same in the VA/DoD and CDC styles, which the splitter leaves at the head of the next sentence ("… over another.
# (Strong For; Reviewed, New-replaced) 9. In patients …", "(Weak For)", "(Category IB)", "(Consensus–Panel Expertise)").
# Read only once the answer's sentences are chosen (``with_trailing_label``): the gate and the sentence scorer see the
# sentences as ingest split them (docs/benchmarks.md, stop 32).
TRAILING_LABEL = re.compile(
    r"\s*\((?:(?:grade\s+)?[A-D]\s+recommendation|I\s+statement|grade\s+[A-DI]|category\s+I[ABC]?|"
    r"(?:strong|weak|moderate|conditional|consensus|not\s+applicable|N/A|carryover|modified\s+from|"
    r"recommendation\s+category|level\s+of\s+evidence|quality\s+of\s+evidence)\b[^()]{0,100})\)\.?(?=\s|$)",
    re.IGNORECASE,
)


def with_trailing_label(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a chosen sentence widened to the grade label right after it, and moved past one it opens with."""
    if m := TRAILING_LABEL.match(text, end):
        end = m.end()
    if (m := TRAILING_LABEL.match(text, start, end)) and m.start() == start and text[start] == "(":
        rest = m.end()
        while rest < end and text[rest].isspace():
            rest += 1
        start = rest if end - rest >= MIN_CHARS else start
    return start, end


# A bibliography entry, or a piece of one: an author list, "et al.", "2007;147:478–91", a PMID or DOI.
_REFERENCE = re.compile(
    r"^(?:[A-Z][A-Za-z'\-]+ [A-Z]{1,3}, ){2,}|\bet al\.|\b(?:19|20)\d\d;\s?\d+|\bPMID:?\s?\d|\bdoi\.org/|\bdoi:\s?10\.|"
    r"^\s*\d+\.\s+[A-Z][A-Za-z'\-]+ [A-Z]{1,3},"
)
# A match of _REFERENCE (case-sensitive) starts the text or holds one of these marks: a sentence with neither is not
# searched (≈ 10 µs a sentence, on every sentence of every chunk an answer first reads; tests/test_quotable_fast.py).
_REFERENCE_START = re.compile(r"(?:[A-Z][A-Za-z'\-]+ [A-Z]{1,3}, ){2,}|\s*\d+\.\s+[A-Z][A-Za-z'\-]+ [A-Z]{1,3},")
_REFERENCE_MARKS = ("et al.", ";", "PMID", "doi")
REFERENCE_LIST_SHARE = 0.3


def _reference_like(text: str) -> bool:
    if _REFERENCE_START.match(text) is None and not any(m in text for m in _REFERENCE_MARKS):
        return False
    return _REFERENCE.search(text) is not None


def reference_list(texts: list[str]) -> bool:
    """A chunk of a bibliography (a PDF's reference list that parsing did not set apart under its own heading):
    at least two and at least 30 % of its sentences look like parts of reference entries. None of its sentences is quoted, the
    titles of cited works included ("Diagnosis and treatment of low back pain: a joint clinical practice …")."""
    n = sum(_reference_like(t) for t in texts)
    return n >= 2 and n >= REFERENCE_LIST_SHARE * len(texts)
