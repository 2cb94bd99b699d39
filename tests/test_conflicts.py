"""Conflicting numbers across guidelines → abstain with conflicting_evidence and both passages."""

from __future__ import annotations

import pytest

from app.query.conflicts import SentenceView, facts, find_conflict
from app.query.schemas import QueryRequest
from app.query.service import QueryService
from app.settings import Settings


def test_facts_extracts_typed_numbers():
    f = facts("Begin biennial mammography at age 40 and repeat every 2 years; give 81 mg daily for 5 days.")
    assert f["age"] == {"40"} and f["interval"] == {"2"} and f["dose"] == {"81"} and "5" in f["duration"]


def test_find_conflict_needs_different_docs_same_item_disjoint_numbers():
    a = SentenceView(0, "A", 0, 10, "Start screening mammography at age 40 for average-risk women.", 0.8)
    b = SentenceView(1, "B", 0, 10, "Start screening mammography at age 50 for average-risk women.", 0.78)
    same_doc = SentenceView(2, "A", 0, 10, "Start screening mammography at age 50 for average-risk women.", 0.78)
    other_item = SentenceView(3, "C", 0, 10, "Colonoscopy for adults starting at age 45 in average risk.", 0.7)
    agree = SentenceView(4, "D", 0, 10, "Screening mammography should start at age 40 in average-risk women.", 0.79)
    c = find_conflict([a, b], min_sim=0.5)
    assert c is not None and c.kind == "age" and {c.a_row, c.b_row} == {0, 1}
    assert find_conflict([a, same_doc], min_sim=0.5) is None
    assert find_conflict([a, other_item], min_sim=0.5) is None
    assert find_conflict([a, agree], min_sim=0.5) is None
    assert find_conflict([a, b], min_sim=0.79) is None  # b not relevant enough


@pytest.fixture(scope="module")
def service(demo_index, embedder, tmp_path_factory):
    root, _ = demo_index
    tmp = tmp_path_factory.mktemp("conflict")
    s = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{tmp}/a.db"})
    return QueryService.from_settings(s, index_dir=root, embedder=embedder)


def test_conflicting_guidelines_abstain_with_both_passages(service):
    # demo corpus: the North task force starts at 40, the South college at 50
    r = service.answer(QueryRequest(question="At what age should a woman at average risk begin having screening mammograms?"))
    assert r.status == "abstained" and r.reason == "conflicting_evidence", r
    assert {c.doc_id for c in r.citations} == {"demo-breast-north-2026", "demo-breast-south-2026"}
    assert any("40" in c.quote for c in r.citations) and any("50" in c.quote for c in r.citations)


def test_same_interval_in_both_is_not_a_conflict(service):
    r = service.answer(QueryRequest(question="How often should average-risk women have a mammogram?"))
    assert r.reason != "conflicting_evidence", r


def test_without_conflict_the_question_is_answered(service):
    r = service.answer(QueryRequest(question="From what age should people at average risk begin colorectal cancer screening?"))
    assert r.status == "answered" and "45" in (r.answer or "")
