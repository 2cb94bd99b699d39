"""A typing slip is read as the guidelines' word, said so in ``read_as``, and nothing else is changed (app/query/spelling.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.query.schemas import QueryRequest
from app.query.service import QueryService
from app.query.spelling import correct, one_slip
from app.settings import Settings
from ingest.bm25 import Bm25Index

TEXTS = [
    "Prescribe no more opioids than needed; a supply of 3 days or less is often enough for acute pain.",
    "Opioids for acute pain after surgery: reassess within 3 days.",
    "Screening colonoscopy every 10 years; screening should start at age 45.",
    "Dysphagia after stroke needs a swallowing assessment.",
    "Metformin is first-line; metformin is titrated.",
    "Metoprolol is a beta blocker.",
]


def index(texts: list[str] = TEXTS) -> SimpleNamespace:
    chunks = [SimpleNamespace(text=t, title="Demo", section_path=["Recommendations"]) for t in texts]
    return SimpleNamespace(root="mem", version=str(hash(tuple(texts))), chunks=chunks, bm25=Bm25Index.build(texts))


def test_one_slip_is_a_swap_a_letter_left_out_or_typed_twice():
    near = one_slip("opioids")
    assert {"oipoids", "opioisd", "opiodis"} <= near  # neighbours swapped (never the first letter)
    assert "poioids" not in near
    assert {"opioxids", "opiyoids"} <= near and not any(w.endswith("sx") for w in near)  # left out, never the last
    assert "opiods" in one_slip("opioods") and "opioid" not in near  # typed twice; a dropped letter is not a slip
    assert not ({"opiaids", "epioids"} & near)  # a letter replaced by another is not a slip


def test_a_slip_is_read_as_the_guidelines_word_and_disclosed():
    q, readings = correct(index(), "How many days of opoids after Screeening? Is metfromin ok?")
    assert q == "How many days of opioids after Screening? Is metformin ok?"
    assert [(r.written, r.read) for r in readings] == [("opoids", "opioids"), ("Screeening", "Screening"), ("metfromin", "metformin")]


@pytest.mark.parametrize("question", [
    "Is rivaroxaban preferred after surgery?",  # a drug the guidelines never name, nothing one slip away
    "Is dysphasia assessed after stroke?",  # another condition, one *replaced* letter from dysphagia: not a slip
    "Should screened adults start at 45?",  # another form of a word they use ("screen"): BM25 already matches it
    "Does the METFORMN rule apply?",  # an acronym-like capitalised word is never read
    "Is the opiod dose ok?",  # 5 letters: too often another real word
    "Is the stroke dsyphagai score used?",  # two slips from "dysphagia" (two swaps): as written
])
def test_words_left_as_written(question):
    assert correct(index(), question) == (question, [])


def test_a_whole_word_of_the_encoders_vocabulary_and_a_tie_are_left_as_written():
    # "causal" is one swap from "casual" but a word in its own right (one WordPiece of the encoder): as written;
    # "csaual" is not a word, and is read
    assert correct(index(["A casual contact."]), "Is the link causal?")[1] == []
    assert [(r.written, r.read) for r in correct(index(["A casual contact."]), "Is it csaual?")[1]] == [("csaual", "casual")]
    tie = index(["The carting rule.", "The casting rule."])
    assert correct(tie, "Is cating allowed?")[1] == []  # "carting" and "casting" equally used, each one letter left out
    assert [(r.written, r.read) for r in correct(tie, "Is carrting allowed?")[1]] == [("carrting", "carting")]


def test_the_service_answers_a_misspelt_question_as_the_spelt_one(demo_index, embedder, tmp_path):
    """Real encoder, index and gate on the demo corpus: the README's question with two slips gets the clean question's
    answer and says how it was read; with the reading turned off it does not get that answer's sentences."""
    root, _ = demo_index
    clean = "At what age should colorectal cancer screening start?"
    slipped = "At what age should colorectl cancer screeening start?"

    def ask(q: str, **answer):
        s = Settings(safety={"enabled": False}, retrieval=answer, database={"url": f"sqlite:///{tmp_path}/a.db"})
        return QueryService.from_settings(s, index_dir=root, embedder=embedder).answer(QueryRequest(question=q))

    a, b = ask(clean), ask(slipped)
    assert a.status == "answered" and a.read_as == []
    assert [(r.written, r.read) for r in b.read_as] == [("colorectl", "colorectal"), ("screeening", "screening")]
    assert (b.status, [s.text for s in b.sentences]) == (a.status, [s.text for s in a.sentences])
    off = ask(slipped, read_slips=False)
    assert off.read_as == [] and [s.text for s in off.sentences] != [s.text for s in a.sentences]
