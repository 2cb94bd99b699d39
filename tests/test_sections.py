"""Sections that describe the guideline itself (app/query/sections.py): the heading rule, and that the sentence
scorer sees them as a feature of the real shared index's NGC summaries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.query.sections import about_guideline
from app.query.signals import SENTENCE_FEATURES


@pytest.mark.parametrize("path", [
    ["Screening for amblyopia", "Scope", "Guideline Objective(s)"], ["Title", "Scope", "Intended Users"],
    ["Screening for syphilis", "Methodology", "Number of Source Documents", "Pregnant Women"],
    ["Screening for dyslipidemia", "Major Outcomes Considered", "Screening Key Questions"],
    ["Title", "Identifying Information and Availability", "Source(s) of Funding"],
    ["Title", "Disclaimer"],
    ["Screening for syphilis", "Major Recommendations", "Response to Public Comment"],
    ["Screening for obesity", "Other Considerations", "Useful Resources"],
])
def test_a_section_about_the_guideline(path):
    assert about_guideline(path)


@pytest.mark.parametrize("path", [
    ["Screening for amblyopia", "Recommendations", "Major Recommendations", "Summary of Recommendation and Evidence"],
    ["CDC Clinical Practice Guideline for Prescribing Opioids", "Clinical Practice Guideline Development Methods",
     "Recommendation Development"],
    ["Title", "Benefits/Harms of Implementing the Guideline Recommendations", "Potential Harms"],
    ["Screening for peripheral artery disease", "Scope", "Target Population"],  # who the recommendation is for
    ["Scope of practice for nurse prescribers"],  # a title that starts with the word is not the field
    [],
])
def test_a_section_that_says_what_to_do(path):
    assert not about_guideline(path)


def test_the_sentence_scorer_reads_it():
    assert "about_guideline" in SENTENCE_FEATURES


def test_a_sentence_about_the_guideline_is_read_but_never_quoted():
    from app.query.answer import Picked, select_by_score

    key_question = Picked(0, 0, 0, 0, 90, "Key Question 1: How effectively does screening for preeclampsia reduce morbidity?",
                          0.8, score=4.0, about_guideline=True)
    statement = Picked(1, 1, 0, 0, 80, "All pregnant women are at risk for preeclampsia and should be screened.", 0.7, score=2.0)
    index = SimpleNamespace(chunks=[SimpleNamespace(doc_id="a"), SimpleNamespace(doc_id="a")])
    assert select_by_score(index, [key_question, statement], 5, 3.0, -1.5) == [statement]  # type: ignore[arg-type]
    assert select_by_score(index, [key_question], 5, 3.0, -1.5) == []  # type: ignore[arg-type]



@pytest.mark.parametrize(("sentence", "points"), [
    ('The grades of recommendations (A-D, I, and Expert Opinion [EO]) and levels of certainty are defined at the end of '
     'the "Major Recommendations" field.', True),
    ('Definitions for the ratings of overall strength of evidence and recommendation categories are provided at the end '
     'of the "Major Recommendations" field.', True),
    ("A list of participants is provided at the end of the original guideline document.", True),
    ("Stop aspirin at the end of the 36th week of gestation.", False),  # "at the end of the" saying what to do
    ("The USPSTF recommends screening for high blood pressure in adults aged 18 years or older. (A recommendation)", False),
])
def test_a_pointer_to_the_grade_definitions_says_nothing(sentence, points):
    from app.query.sections import points_elsewhere

    assert points_elsewhere(sentence) is points


def test_a_pointer_sentence_is_read_but_never_quoted(tmp_path, embedder):
    """Stop 39: "The grades of recommendations … are defined at the end of the "Major Recommendations" field." was
    quoted in answers to grade questions. Built for real: the sentence stays in the pool the gate reads, marked so the
    answer and an abstention's closest sentences leave it out."""
    from app.query.answer import candidate_sentences, select_by_score
    from app.query.retrieve import Candidate
    from ingest.store import current_version, load_version
    from tests.conftest import build_index

    src = tmp_path / "lifestyle.md"
    src.write_text(
        "# Lifestyle counseling for adults with prediabetes (demo, not clinical advice)\n\n"
        "## Major Recommendations\n\n"
        'The grades of recommendations (A-D, I, and Expert Opinion [EO]) are defined at the end of the "Major '
        'Recommendations" field.\n\n'
        "The Work Group recommends offering an intensive lifestyle program to overweight adults with prediabetes. "
        "(Grade B)\n"
    )
    root = tmp_path / "idx"
    build_index([src], root, embedder)
    idx = load_version(root, current_version(root))
    qvec = embedder.embed(["How highly graded is an intensive lifestyle program for prediabetes?"])[0]
    cands = [Candidate(row=r, score=1.0) for r in range(len(idx.chunks))]
    pool = candidate_sentences(idx, cands, qvec)
    pointer = [p for p in pool if "defined at the end" in p.text]
    assert pointer and all(p.about_guideline for p in pointer)  # in the pool, marked
    for p in pool:
        p.score = 5.0 if p in pointer else 1.0  # even scored best, it is not quoted
    chosen = select_by_score(idx, pool, 5, 10.0, -1.5)
    assert chosen and not any("defined at the end" in p.text for p in chosen)
