"""Conflicting numbers across guidelines → abstain with conflicting_evidence and both passages."""

from __future__ import annotations

import pytest

from app.query.conflicts import SentenceView, facts, find_conflict
from app.query.schemas import QueryRequest
from app.query.service import QueryService
from app.settings import Settings
from ingest.documents import IngestParams
from ingest.pipeline import run_ingest


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
def service(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("conflict")
    src = tmp / "src"
    src.mkdir()
    (src / "north.md").write_text(
        "# Breast cancer screening (North Demo Task Force)\n\nDemo content, not clinical advice.\n\n## Recommendation\n\n"
        "The task force recommends biennial screening mammography for women aged 40 to 74 years at average risk.\n"
    )
    (src / "south.md").write_text(
        "# Breast cancer screening (South Demo College)\n\nDemo content, not clinical advice.\n\n## Recommendation\n\n"
        "The college recommends screening mammography every 2 years for average-risk women starting at age 50.\n"
    )
    (src / "crc.md").write_text(
        "# Colorectal cancer screening demo\n\nDemo content, not clinical advice.\n\n## Who\n\n"
        "Screen average-risk adults aged 45 to 75 years for colorectal cancer with colonoscopy every 10 years.\n"
    )
    run_ingest([src], tmp / "index", IngestParams(), embedder)
    s = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{tmp}/a.db"})
    return QueryService.from_settings(s, index_dir=tmp / "index", embedder=embedder)


def test_conflicting_guidelines_abstain_with_both_passages(service):
    r = service.answer(QueryRequest(question="At what age should average-risk women start screening mammography?"))
    assert r.status == "abstained" and r.reason == "conflicting_evidence", r
    assert {c.doc_id for c in r.citations} == {"north", "south"}
    assert any("40" in c.quote for c in r.citations) and any("50" in c.quote for c in r.citations)


def test_without_conflict_the_question_is_answered(service):
    r = service.answer(QueryRequest(question="At what age should colorectal cancer screening start?"))
    assert r.status == "answered" and "45" in (r.answer or "")
