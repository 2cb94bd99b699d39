"""Sections that describe the guideline itself (app/query/sections.py): the heading rule, and that the sentence
scorer sees them as a feature of the real shared index's NGC summaries."""

from __future__ import annotations

import pytest

from app.query.sections import about_guideline
from app.query.signals import SENTENCE_FEATURES


@pytest.mark.parametrize("path", [
    ["Screening for amblyopia", "Scope", "Guideline Objective(s)"],
    ["Screening for syphilis", "Methodology", "Number of Source Documents", "Pregnant Women"],
    ["Screening for dyslipidemia", "Major Outcomes Considered", "Screening Key Questions"],
    ["Title", "Identifying Information and Availability", "Source(s) of Funding"],
    ["Title", "Disclaimer"],
])
def test_a_section_about_the_guideline(path):
    assert about_guideline(path)


@pytest.mark.parametrize("path", [
    ["Screening for amblyopia", "Recommendations", "Major Recommendations", "Summary of Recommendation and Evidence"],
    ["CDC Clinical Practice Guideline for Prescribing Opioids", "Clinical Practice Guideline Development Methods",
     "Recommendation Development"],
    ["Title", "Benefits/Harms of Implementing the Guideline Recommendations", "Potential Harms"],
    ["Scope of practice for nurse prescribers"],  # a title that starts with the word is not the field
    [],
])
def test_a_section_that_says_what_to_do(path):
    assert not about_guideline(path)


def test_the_sentence_scorer_reads_it():
    assert "about_guideline" in SENTENCE_FEATURES
