"""Sections that describe the guideline itself (app/query/sections.py): the heading rule, and that the sentence
scorer sees them as a feature of the real shared index's NGC summaries."""

from __future__ import annotations

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
    assert select_by_score(None, [key_question, statement], 5, 3.0, -1.5) == [statement]  # type: ignore[arg-type]
    assert select_by_score(None, [key_question], 5, 3.0, -1.5) == []  # type: ignore[arg-type]

