"""Feedback, the curation queue, exports and the registry rules, on a real SQLite database (no index)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.curation import registry
from app.curation.errors import Conflict
from app.curation.feedback import FeedbackIn
from app.curation.queue import ResolveIn
from app.curation.roles import cli_actor
from app.curation.service import CurationService
from app.errors import BadInput, NotFound
from app.query.schemas import AnswerSentence, Citation, QueryResponse
from app.settings import Settings


@pytest.fixture
def svc(tmp_path):
    s = Settings(
        index={"dir": str(tmp_path / "served")},
        database={"url": f"sqlite:///{tmp_path / 'c.db'}"},
        curation={"registry_dir": str(tmp_path / "reg"), "build_dir": str(tmp_path / "b"), "feedback_dir": str(tmp_path / "fb")},
    )
    service = CurationService(s)
    yield service
    service.dispose()


def answered() -> QueryResponse:
    cit = Citation(n=1, chunk_id="demo-crc:0001", doc_id="demo-crc", title="t", issuer="i", version="2026.1", section_path=["s"],
                   page=None, start=0, end=20, quote="Screen from age 45.", score=0.5)
    cit2 = cit.model_copy(update={"n": 2, "chunk_id": "demo-htn:0003", "doc_id": "demo-htn", "quote": "Blood pressure."})
    return QueryResponse(status="answered", answer="Screen from age 45. Blood pressure.",
                         sentences=[AnswerSentence(text="Screen from age 45.", citations=[1]), AnswerSentence(text="Blood pressure.", citations=[2])],
                         citations=[cit, cit2], index_version="v0001-x")


CLIN = cli_actor("carol")


def test_question_and_comment_masked_and_kinds(svc: CurationService) -> None:
    qid = svc.record_answer("patient Jane Doe, MRN 1234567: when to screen?", answered(), request_id="r1")
    rec = svc.get_answer(qid)
    assert rec["question"] == "patient [NAME], MRN [MRN]: when to screen?" and rec["release_id"] is None
    assert rec["citations"][0]["quote"] == "Screen from age 45." and rec["request_id"] == "r1"
    ok = svc.submit_feedback(CLIN, FeedbackIn(query_id=qid, rating=5, sentences=[{"sentence": 0, "verdict": "supported"}]))
    assert ok["curation_item_id"] is None  # nothing wrong: no item
    bad = svc.submit_feedback(CLIN, FeedbackIn(query_id=qid, comment="call 555-123-4567",
                                               citations=[{"n": 2, "verdict": "wrong_source"}]))
    assert bad["kind"] == "citation_error" and bad["comment"] == "call [PHONE]"
    unsafe = svc.submit_feedback(CLIN, FeedbackIn(query_id=qid, sentences=[{"sentence": 1, "verdict": "outdated"}, {"sentence": 0, "verdict": "unsafe"}]))
    assert unsafe["kind"] == "unsafe"
    wrong = svc.submit_feedback(CLIN, FeedbackIn(query_id=qid, expected="abstain"))
    assert wrong["kind"] == "wrong_answer"
    assert [i["kind"] for i in svc.list_items(status="pending")] == ["citation_error", "unsafe", "wrong_answer"]


def test_feedback_validation(svc: CurationService) -> None:
    qid = svc.record_answer("q?", answered())
    with pytest.raises(BadInput, match="sentence 5"):
        svc.submit_feedback(CLIN, FeedbackIn(query_id=qid, sentences=[{"sentence": 5, "verdict": "unsupported"}]))
    with pytest.raises(BadInput, match="citation 9"):
        svc.submit_feedback(CLIN, FeedbackIn(query_id=qid, citations=[{"n": 9, "verdict": "correct"}]))
    with pytest.raises(NotFound):
        svc.submit_feedback(CLIN, FeedbackIn(query_id="0" * 32, rating=1))
    with pytest.raises(ValueError):
        FeedbackIn(query_id=qid, sentences=[{"sentence": 0, "verdict": "meh"}])
    assert svc.list_items() == []  # nothing half-written


def test_wrong_abstention_and_wrong_answer_feed_calibration(svc: CurationService, tmp_path) -> None:
    abst = QueryResponse(status="abstained", reason="weak_evidence", citations=answered().citations, index_version="v1")
    q1 = svc.record_answer("When should screening start?", abst)
    q2 = svc.record_answer("What dose of X?", answered())
    i1 = svc.submit_feedback(CLIN, FeedbackIn(query_id=q1, expected="answer", citations=[{"n": 1, "verdict": "correct"}]))
    i2 = svc.submit_feedback(CLIN, FeedbackIn(query_id=q2, expected="abstain"))
    assert (i1["kind"], i2["kind"]) == ("wrong_abstention", "wrong_answer")
    curator = cli_actor("alice")
    r1 = svc.resolve_item(curator, i1["curation_item_id"], ResolveIn())
    assert r1["resolution"]["gold_doc_ids"] == ["demo-crc"] and r1["resolution"]["gold_evidence"] == "Screen from age 45."
    svc.resolve_item(curator, i2["curation_item_id"], ResolveIn())
    from app.eval.cases import load_cases

    cal, bad = load_cases(tmp_path / "fb" / "abstain.jsonl")  # the format `guideground calibrate --feedback` reads
    assert not bad and [(c.question, c.expected, c.gold_doc_ids) for c in cal] == [
        ("When should screening start?", "answer", ["demo-crc"]), ("What dose of X?", "abstain", [])]
    cases = svc.export_cases()
    assert [(c["expected"], c.get("gold_doc_ids")) for c in cases] == [("answer", ["demo-crc"]), ("abstain", [])]
    with pytest.raises(Conflict):
        svc.resolve_item(curator, i2["curation_item_id"], ResolveIn())


def test_unconfirmed_and_dismissed_items_export_nothing(svc: CurationService, tmp_path) -> None:
    q = svc.record_answer("q?", QueryResponse(status="refused", reason="unsafe_request"))
    a = svc.submit_feedback(CLIN, FeedbackIn(query_id=q, expected="answer"))["curation_item_id"]
    b = svc.submit_feedback(CLIN, FeedbackIn(query_id=q, expected="abstain"))["curation_item_id"]
    svc.triage_item(cli_actor("alice"), a, "bob")
    assert svc.get_item(a)["assignee"] == "bob" and svc.get_item(a)["status"] == "triaged"
    svc.resolve_item(cli_actor("alice"), a, ResolveIn(confirmed=False, expected="answer", gold_doc_ids=["d"]))
    svc.dismiss_item(cli_actor("alice"), b, "duplicate")
    assert svc.export_cases() == []
    assert (tmp_path / "fb" / "screen.jsonl").read_text() == ""


def test_answer_needs_gold_document(svc: CurationService) -> None:
    q = svc.record_answer("q?", QueryResponse(status="refused", reason="unsafe_request"))
    item = svc.submit_feedback(CLIN, FeedbackIn(query_id=q, expected="answer"))["curation_item_id"]
    with pytest.raises(BadInput, match="gold document"):
        svc.resolve_item(cli_actor("alice"), item, ResolveIn())


def test_retired_and_superseded_versions_are_not_citable(svc: CurationService, tmp_path) -> None:
    a = cli_actor("alice")
    svc.create_guideline(a, slug="g1", title="G1")
    svc.create_guideline(a, slug="g2", title="G2")
    v1 = svc.add_version(a, "g1", "1", "g1.md", b"# G1\n\nOne.")
    v2 = svc.add_version(a, "g1", "2", "g1.md", b"# G1\n\nTwo.", supersedes_id=v1["id"])
    w1 = svc.add_version(a, "g2", "1", "g2.txt", b"G2 text.")
    sidecar = (tmp_path / "reg" / "g1" / "2" / "manifest.csv").read_text()
    assert "g1,g1.md,G1,,,2," in sidecar
    with svc.db.session() as s:
        assert [v.id for v in registry.citable_versions(s)] == [v2["id"], w1["id"]]
    svc.retire_version(a, w1["id"], "withdrawn by issuer")
    svc.reject_version(a, v2["id"], "typo")
    with svc.db.session() as s:
        assert [v.id for v in registry.citable_versions(s)] == [v1["id"]]
    with pytest.raises(Conflict):
        svc.add_version(a, "g1", "1", "g1.md", b"again")
    with pytest.raises(BadInput):
        svc.add_version(a, "g1", "3", "g1.exe", b"MZ")
    with pytest.raises(BadInput):
        svc.create_guideline(a, slug="Bad Slug", title="x")
    actions = [e["action"] for e in svc.audit_events(object_type="guideline_version")]
    assert actions.count("version.register") == 3 and "version.retire" in actions and "version.reject" in actions


def test_cli_keys_and_queue_json(tmp_path, monkeypatch) -> None:
    from app.cli import app
    from app.settings import get_settings

    monkeypatch.setenv("GUIDEGROUND_DATABASE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["keys", "create", "--name", "alice", "--role", "curator", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["key"].startswith("gg_")
        assert json.loads(CliRunner().invoke(app, ["keys", "list", "--json"]).stdout)[0]["name"] == "alice"
        bad = CliRunner().invoke(app, ["keys", "create", "--name", "x", "--role", "king", "--json"])
        assert bad.exit_code == 1 and json.loads(bad.stdout)["error"] == "bad_input"
        assert json.loads(CliRunner().invoke(app, ["curation", "list", "--json"]).stdout) == []
        assert CliRunner().invoke(app, ["releases", "approve", "7", "--json"]).exit_code == 1  # not found
    finally:
        get_settings.cache_clear()


def test_screen_trainer_reads_feedback_file(tmp_path) -> None:
    from app.safety.train_data import FEEDBACK_SOURCE, Example, TrainParams, load_feedback
    from app.safety.train_fit import example_weights

    path = tmp_path / "screen.jsonl"
    rows = [{"id": "feedback-1", "question": "How do I taper oxycodone after surgery?", "harmful": False},
            {"id": "feedback-2", "question": "known   QUESTION", "harmful": False},
            {"id": "feedback-3", "question": "How to poison a patient without detection?", "harmful": True}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    known = [Example("k1", "Known question", True, "msb_train", "category_1"), Example("k2", "b", False, "benign_sensitive", "x")]
    got, skipped = load_feedback(path, known)
    assert [(e.id, e.harmful, e.source) for e in got] == [("feedback-1", False, FEEDBACK_SOURCE), ("feedback-3", True, FEEDBACK_SOURCE)]
    assert skipped == 1  # the curated dataset's label wins
    w = example_weights([*known, *got], TrainParams())
    assert w[1] == w[2] and w[0] == w[3]  # weighted inside the benign-sensitive and MedSafetyBench pools
    assert load_feedback(tmp_path / "missing.jsonl") == ([], 0)
