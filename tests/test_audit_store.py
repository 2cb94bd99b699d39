"""Audit store against real databases: SQLite in tmp_path and the local PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.audit import AuditStore
from app.errors import BadInput, NotFound
from app.query.schemas import Citation, QueryResponse, Timings

PG_URL = os.environ.get("GUIDEGROUND_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RAW_QUESTION = "patient Jane Doe, DOB 3/4/1950, MRN 1234567, email jane@example.com: warfarin dose 5 mg?"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[AuditStore]:
    prefix = f"t{uuid.uuid4().hex[:10]}_"  # parallel runs on one PostgreSQL database do not collide
    url = f"sqlite:///{tmp_path / 'audit.db'}" if request.param == "sqlite" else PG_URL
    s = AuditStore(url, table_prefix=prefix)
    s.create_all()
    try:
        yield s
    finally:
        s.drop_all()
        s.dispose()


def _raw(store: AuditStore, column: str, table: str = "queries") -> list[str]:
    name = store.queries.name if table == "queries" else store.feedback.name
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(f"SELECT {column} FROM {name}"))]


def test_record_masks_question_and_answer(store: AuditStore) -> None:
    qid = store.record(
        question=RAW_QUESTION,
        status="answered",
        index_version="v3",
        chunk_ids=["doc1:0003", "doc2:0010"],
        answer="For Mr. John Smith: start 5 mg daily, INR 2.0-3.0.",
        timings={"embed": 1.5, "total": 12.25},
        request_id="req-1",
    )
    stored = _raw(store, "question")
    assert stored == ["patient [NAME], DOB [DOB], MRN [MRN], email [EMAIL]: warfarin dose 5 mg?"]
    for raw in ("Jane Doe", "3/4/1950", "1234567", "jane@example.com"):
        assert raw not in stored[0]
    assert _raw(store, "answer") == ["For Mr. [NAME]: start 5 mg daily, INR 2.0-3.0."]

    rec = store.get(qid)
    assert rec is not None
    assert rec["status"] == "answered" and rec["index_version"] == "v3" and rec["request_id"] == "req-1"
    assert rec["chunk_ids"] == ["doc1:0003", "doc2:0010"]
    assert rec["timings"] == {"embed": 1.5, "total": 12.25}
    assert rec["created_at"].tzinfo is not None
    assert abs((datetime.now(UTC) - rec["created_at"]).total_seconds()) < 120


def test_recent_newest_first_and_limit(store: AuditStore) -> None:
    ids = [store.record(question=f"question {i}", status="abstained", reason="no_evidence") for i in range(4)]
    recent = store.recent(3)
    assert len(recent) == 3 and store.count() == 4
    assert {r["id"] for r in recent} <= set(ids)
    assert [r["created_at"] for r in recent] == sorted((r["created_at"] for r in recent), reverse=True)
    assert recent[0]["id"] == ids[-1]


def test_record_response_refusal(store: AuditStore) -> None:
    resp = QueryResponse(
        status="refused", reason="unsafe_request", category="category_4", timings_ms=Timings(embed=2.0, total=3.0)
    )
    qid = store.record_response("How can I leak the records of Ms. Ann Lee?", resp, request_id="r9")
    rec = store.get(qid)
    assert rec is not None
    assert (rec["status"], rec["reason"], rec["category"]) == ("refused", "unsafe_request", "category_4")
    assert rec["question"] == "How can I leak the records of Ms. [NAME]?"
    assert rec["chunk_ids"] == [] and rec["answer"] is None and rec["timings"]["total"] == 3.0


def test_record_response_answered_keeps_chunk_ids(store: AuditStore) -> None:
    cit = Citation(
        n=1, chunk_id="cdc-opioids:0042", doc_id="cdc-opioids", title="t", issuer="CDC", version="2022",
        section_path=["Rec 1"], page=3, start=0, end=4, quote="Some", score=0.5,
    )
    resp = QueryResponse(status="answered", answer="Some text.", citations=[cit], index_version="v7")
    qid = store.record_response("When to taper opioids?", resp)
    rec = store.get(qid)
    assert rec is not None and rec["chunk_ids"] == ["cdc-opioids:0042"] and rec["index_version"] == "v7"


def test_feedback_roundtrip_masks_comment(store: AuditStore) -> None:
    qid = store.record(question="q", status="answered")
    fid = store.add_feedback(qid, "citation_wrong", comment="call me at 555-123-4567", chunk_id="doc1:0003")
    store.add_feedback(qid, "helpful")
    fb = store.list_feedback()
    assert [f["label"] for f in fb] == ["citation_wrong", "helpful"]
    assert fb[0]["id"] == fid and fb[0]["query_id"] == qid and fb[0]["chunk_id"] == "doc1:0003"
    assert _raw(store, "comment", table="feedback")[0] == "call me at [PHONE]"
    assert store.list_feedback(query_id="nope") == []


def test_feedback_validation(store: AuditStore) -> None:
    qid = store.record(question="q", status="answered")
    with pytest.raises(BadInput):
        store.add_feedback(qid, "great")
    with pytest.raises(NotFound):
        store.add_feedback("0" * 32, "helpful")
    with pytest.raises(BadInput):
        store.record(question="q", status="maybe")
    assert store.list_feedback() == []


def test_postgres_url_without_driver_uses_psycopg() -> None:
    s = AuditStore("postgresql://postgres@127.0.0.1:5432/test")
    assert s.engine.url.drivername == "postgresql+psycopg"
    s.dispose()


def test_sqlite_file_created_in_missing_folder(tmp_path) -> None:
    s = AuditStore(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'g.db'}")
    s.create_all()
    s.record(question="q", status="refused", reason="unsafe_request")
    assert (tmp_path / "nested" / "dir" / "g.db").is_file() and s.count() == 1
    s.dispose()
