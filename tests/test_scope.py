"""A question asking whom a recommendation covers ("does the statement apply to her?"): how it is read, which
sentences say whom a recommendation applies to, and that the answer quotes them (answer.with_scope), also from a
passage retrieval added after the gate decided (retrieval.scope_chunks) — on the real demo index."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.query.answer import Picked, with_scope
from app.query.asks import asked_kinds, item_match, open_question, sentence_items


@pytest.mark.parametrize("question", [
    "A 63-year-old had a transient episode of right-hand weakness last month. Does the USPSTF recommendation against carotid screening apply to him?",
    "Is she within the scope of the USPSTF OSA screening statement?",
    "Is she covered by the USPSTF recommendation against screening?",
    "Does the task force statement on drug-use prevention for youth cover a 16-year-old already diagnosed with cannabis use disorder?",
])
def test_a_question_about_whom_a_recommendation_covers(question):
    kinds = asked_kinds(question)
    assert "scope" in kinds
    # the gate reads it as before: a yes/no question (never an open one), and a recommendation matches it
    assert not open_question(kinds)
    assert item_match(kinds, sentence_items("The USPSTF recommends against screening (D recommendation).")) == 1.0


@pytest.mark.parametrize("question", [
    "Which U.S. MEC 2016 category applies to her?",  # asks a category
    "How much sunscreen should I tell a teenager to apply to cover the whole body?",
    "Can tenofovir alone replace the two-drug pill, and does the same apply to MSM?",
    "What content and skills did the successful counseling programs typically cover?",
])
def test_other_questions_with_the_same_verbs_do_not_ask_it(question):
    assert "scope" not in asked_kinds(question)


@pytest.mark.parametrize("sentence", [
    "This recommendation applies to children ages 6 to 24 months who are asymptomatic for iron deficiency anemia.",
    "It does not apply to children younger than age 6 months or older than 24 months.",
    "It also does not apply to persons at increased risk of thyroid cancer because of a history of exposure to radiation.",
    "Women who have a hereditary cancer syndrome are excluded from this recommendation.",
    "Such findings are not considered screening and are not the focus of this recommendation.",
    "This guideline applies to asymptomatic adults at average risk of colorectal cancer.",
])
def test_a_statement_of_whom_a_recommendation_applies_to(sentence):
    assert "scope" in sentence_items(sentence)


@pytest.mark.parametrize("sentence", [
    "Not applicable: The guideline was not adapted from another source.",
    "The USPSTF realized that this rating seemed to apply only to how well studies were conducted.",
    "The most common limitations in studies excluded because of poor quality were verification bias.",
    "The USPSTF recommends against screening for thyroid cancer in asymptomatic adults.",
])
def test_other_sentences_are_not(sentence):
    assert "scope" not in sentence_items(sentence)


def _picked(row, text, score, rank=0, start=0):
    return Picked(rank, row, 0, start, start + len(text), text, 0.5, score=score)


def test_the_answer_gets_whom_it_applies_to_and_whom_it_does_not():
    index = SimpleNamespace(chunks=[SimpleNamespace(doc_id="a"), SimpleNamespace(doc_id="a"), SimpleNamespace(doc_id="b")])
    rec = _picked(0, "The USPSTF recommends against screening for carotid stenosis.", 3.0)
    low = _picked(0, "More information may allow an estimation of effects.", 0.5, start=100)
    applies = _picked(1, "This recommendation applies to adults without a history of stroke.", -0.5, rank=1)
    excludes = _picked(1, "It does not apply to persons with neurologic symptoms.", -1.0, rank=1, start=80)
    elsewhere = _picked(2, "This recommendation applies to pregnant women.", 2.0, rank=2)
    pool = [rec, low, applies, excludes, elsewhere]

    # room for both: added in reading order, nothing of the other guideline
    assert with_scope(index, pool, [rec, low], 4) == [rec, low, applies, excludes]
    # full: each takes the place of the lowest-scored sentence that is not itself a statement of scope
    assert with_scope(index, pool, [rec, low], 2) == [applies, excludes]
    assert with_scope(index, pool, [rec, low], 3) == [rec, applies, excludes]
    # a half already chosen is not added twice; the other half still is
    assert with_scope(index, pool, [rec, applies], 3) == [rec, applies, excludes]
    # no statement of scope in the guideline: unchanged
    assert with_scope(index, [rec, low], [rec, low], 2) == [rec, low]


def test_a_scope_question_quotes_the_statement_retrieval_added_after_the_gate(demo_index, embedder, tmp_path):
    """One passage retrieved (a reminder-letters passage), so the guideline's scope passage is not among the quoted
    ones: retrieval adds it for the answer, the gate does not read it, and the answer quotes whom the guideline does
    not apply to. Without ``scope_chunks`` the same answer says nothing of it."""
    from app.query.schemas import QueryRequest
    from app.query.service import QueryService
    from app.settings import Settings

    q = "A 60-year-old with ulcerative colitis asks about stool testing every year. Does the colorectal cancer screening recommendation for FIT apply to him?"

    def run(scope_chunks):
        settings = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{tmp_path}/s{scope_chunks}.db"},
                            retrieval={"top_k": 1, "recommended_chunks": 0, "graded_chunks": 0, "scope_chunks": scope_chunks})
        svc = QueryService.from_settings(settings, index_dir=demo_index[0], embedder=embedder)
        res, idx, _ = svc.explain(q)
        return svc.answer(QueryRequest(question=q)), res, idx

    with_it, res, idx = run(1)
    without, res0, _ = run(0)
    assert res.scoped and not res0.scoped
    scoped_rows = {c.row for c in res.scoped}
    assert not scoped_rows & {c.row for c in res.quoted(1)}
    assert (with_it.status, with_it.confidence) == (without.status, without.confidence) == ("answered", without.confidence)
    said = [s.text for s in with_it.sentences]
    assert any(t.startswith("It does not apply to people with") for t in said), said
    assert not any("does not apply" in s.text for s in without.sentences)
    cited = {with_it.citations[n - 1].chunk_id for s in with_it.sentences if "does not apply" in s.text for n in s.citations}
    assert cited <= {idx.chunks[r].chunk_id for r in scoped_rows}
