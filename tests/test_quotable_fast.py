"""The quotable-sentence rules skip searches that cannot match (a form's marks, a reference entry's marks, the words
read once, the title squashed once per guideline): their verdicts must be exactly those of the rules as they were
written before, kept below verbatim, on every sentence of the demo index and of the shared corpus index (the session's,
tests/conftest.py) and on sentences made to sit at the rules' edges."""

from __future__ import annotations

import re
from pathlib import Path

from app.query.quotable import quotable, reference_list, sentence_prior, squash
from ingest.injection import is_instruction_like
from ingest.store import load_version

REPO = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- reference (the rules before the shortcuts)
_HAS_LETTER = re.compile(r"[A-Za-z]{3}")
_FORM = re.compile(r"_{3,}|^\s*(?:yes\s+no|no\s+yes|not applicable)\b|^\s*\([^()]*\)\s*$|\((?:figure|table|box) \w+\)\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://\S+|www\.\S+")
_GRADE_ROW = re.compile(r"^\s*(?:grade\s+)?(?:[A-D]|I(?:\s+statement)?)\s*\|", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_SAYS_SOMETHING = re.compile(r"\d|recommend", re.IGNORECASE)
_REFERENCE = re.compile(
    r"^(?:[A-Z][A-Za-z'\-]+ [A-Z]{1,3}, ){2,}|\bet al\.|\b(?:19|20)\d\d;\s?\d+|\bPMID:?\s?\d|\bdoi\.org/|\bdoi:\s?10\.|"
    r"^\s*\d+\.\s+[A-Z][A-Za-z'\-]+ [A-Z]{1,3},"
)


def ref_heading_like(text: str) -> bool:
    words = [w for w in _WORDS.findall(text) if len(w) > 3]
    if text.rstrip()[-1:] in ".!?:;" and len(_WORDS.findall(text)) > 6:
        return False
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def ref_quotable(text: str, screened: bool = False) -> bool:
    if len(text) < 25 or not _HAS_LETTER.search(text) or (not screened and is_instruction_like(text)):
        return False
    if _FORM.search(text) or _GRADE_ROW.match(text) or ref_heading_like(text):
        return False
    if _URL.search(text) and len(_WORDS.findall(_URL.sub(" ", text))) < 15:
        return False
    n_words = len(_WORDS.findall(text))
    if n_words <= 5 and text.rstrip()[-1:] not in ".!?:;" and not _SAYS_SOMETHING.search(text):
        return False
    return n_words >= 4


def ref_reference_list(texts: list[str]) -> bool:
    n = sum(bool(_REFERENCE.search(t)) for t in texts)
    return n >= 2 and n >= 0.3 * len(texts)


def ref_sentence_prior(text: str, title: str) -> float:
    st, tt = squash(text), squash(title)
    if st and (st in tt or (len(tt) > 20 and tt in st and len(st) < len(tt) * 1.3)):
        return -1.0
    return 0.0 if text.rstrip()[-1:] in ".!?:)" else -0.05


# ----------------------------------------------------------------------------- sentences at the rules' edges
EDGES = [
    "Patient name: ________ Date of birth: ________ Signature", "the patient signs here ________ and dates the form below.",
    "Yes No Not applicable for this patient at all",
    "  not applicable to children under two years of age here", "(Use the dose given in the table above for adults)",
    "Weight-based dosing is shown below in full detail (Figure 3)", "Weight-based dosing is shown below in full detail (figure 3) ",
    "Smith AB, Jones CD, Brown EF, et al. Screening for disease. JAMA", "Smith AB, Jones CD, Screening trial results were mixed.",
    "12. Smith AB, Jones CD. Aspirin for primary prevention of disease.", "  3.  Moyer VA, on behalf of the task force, wrote this",
    "Ann Intern Med. 2016;164:836-45. The trial enrolled adults over 50.", "PMID 12345678 describes the cohort of adults enrolled.",
    "Available at https://doi.org/10.1001/jama.2016 for all readers now", "See doi: 10.1056/NEJMoa for the full trial report text",
    "Recommendations For Screening Adults With Diabetes And Hypertension", "Recommendations For Screening Adults With Diabetes.",
    "Grade B | The USPSTF recommends the service for adults aged 50 years.", "I statement | The USPSTF concludes the evidence is lacking.",
    "For complete guidance, see: https://www.cdc.gov/guidelines/opioids", "Monitoring of renal function", "Offer it; 1999;12 times",
    "The USPSTF recommends screening for colorectal cancer in adults aged 50 to 75 years.", "ET AL. and et al without a period here",
]


def _index_texts(root: Path) -> list[tuple[list[str], str, bool]]:
    idx = load_version(root)
    return [([c.text[s.start : s.end] for s in c.sentences], c.title, c.citable) for c in idx.chunks]


def _check(chunks: list[tuple[list[str], str, bool]]) -> int:
    n = 0
    for texts, title, citable in chunks:
        assert reference_list(texts) == ref_reference_list(texts), texts[:3]
        for t in texts:
            for screened in {citable, False} if len(chunks) < 2000 else {citable}:
                assert quotable(t, screened=screened) == ref_quotable(t, screened=screened), t
            assert sentence_prior(t, title) == ref_sentence_prior(t, title), (t, title)
            n += 1
    return n


def test_rules_at_their_edges_match_the_rules_as_written() -> None:
    chunks = [([t], t, False) for t in EDGES] + [(EDGES, "Recommendations For Screening Adults With Diabetes", True)]
    assert _check(chunks) > len(EDGES)
    assert sum(ref_quotable(t) for t in EDGES) >= 3 and sum(not ref_quotable(t) for t in EDGES) >= 10  # both verdicts
    assert ref_reference_list(EDGES[6:14])


def test_every_sentence_of_the_demo_index_gets_the_same_verdicts(demo_index) -> None:
    assert _check(_index_texts(demo_index[0])) > 50


def test_every_sentence_of_the_shared_index_gets_the_same_verdicts(shared_index) -> None:
    root = shared_index[0]  # the session's shared corpus index (tests/conftest.py): built if none is cached
    chunks = _index_texts(root)
    assert sum(ref_reference_list(t) for t, _, _ in chunks) > 0  # the corpus has reference lists to find
    assert _check(chunks) > 10000
