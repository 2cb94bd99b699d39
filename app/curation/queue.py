"""The curation queue: pending → triaged (assigned) → resolved or dismissed.

Resolving fills in what the evaluation case and the training example need (expected outcome, gold
document, gold evidence); whatever the curator leaves out is taken from the feedback: its correction
first, then the citations the clinician marked correct.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation import audit
from app.curation.errors import Conflict
from app.curation.feedback import Expected, feedback_dict
from app.curation.models import ITEM_STATUSES, CurationItem
from app.curation.roles import Actor
from app.errors import BadInput, NotFound


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmed: bool = Field(True, description="The clinician was right: export as an eval case and a training example.")
    note: str | None = Field(None, max_length=5000)
    expected: Expected | None = Field(None, description="Override what the service should have done.")
    gold_doc_ids: list[str] | None = Field(None, max_length=20)
    gold_evidence: str | None = Field(None, max_length=5000, description="A verbatim span of a gold document.")
    reference_answer: str | None = Field(None, max_length=5000)


def item_dict(i: CurationItem, full: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": i.id, "query_id": i.query_id, "kind": i.kind, "status": i.status, "assignee": i.assignee,
        "resolution": i.resolution, "resolved_by": i.resolved_by, "created_at": i.created_at.isoformat(),
        "updated_at": i.updated_at.isoformat(),
    }
    if full:
        d["feedback"] = feedback_dict(i.feedback)
        a = i.feedback.answer
        d["answer"] = {"question": a.question, "status": a.status, "reason": a.reason, "release_id": a.release_id,
                       "index_version": a.index_version, "sentences": a.sentences, "citations": a.citations}
    return d


def get_item(s: Session, item_id: int) -> CurationItem:
    i = s.get(CurationItem, item_id)
    if i is None:
        raise NotFound(f"no curation item {item_id}", hint="list the queue with `guideground curation list`")
    return i


def list_items(s: Session, status: str | None = None, kind: str | None = None, limit: int = 200) -> list[CurationItem]:
    if status is not None and status not in ITEM_STATUSES:
        raise BadInput(f"unknown status '{status}'", hint=f"one of {', '.join(ITEM_STATUSES)}")
    stmt = select(CurationItem).order_by(CurationItem.id).limit(limit)
    if status:
        stmt = stmt.where(CurationItem.status == status)
    if kind:
        stmt = stmt.where(CurationItem.kind == kind)
    return list(s.scalars(stmt))


def _change(s: Session, actor: Actor, i: CurationItem, action: str, **fields: Any) -> CurationItem:
    before = item_dict(i, full=False)
    for k, v in fields.items():
        setattr(i, k, v)
    s.flush()
    audit.record(s, actor, action, "curation_item", i.id, before, item_dict(i, full=False), {"status": i.status})
    return i


def triage(s: Session, actor: Actor, item_id: int, assignee: str | None = None) -> CurationItem:
    i = get_item(s, item_id)
    if i.status not in ("pending", "triaged"):
        raise Conflict(f"item {item_id} is {i.status}")
    return _change(s, actor, i, "item.triage", status="triaged", assignee=assignee or actor.name)


def dismiss(s: Session, actor: Actor, item_id: int, note: str | None = None) -> CurationItem:
    i = get_item(s, item_id)
    if i.status in ("resolved", "dismissed"):
        raise Conflict(f"item {item_id} is already {i.status}")
    return _change(s, actor, i, "item.dismiss", status="dismissed", resolution={"confirmed": False, "note": note}, resolved_by=actor.name)


def default_expected(i: CurationItem) -> str:
    fb = i.feedback
    if fb.expected:
        return fb.expected
    return {"answered": "answer", "abstained": "abstain", "refused": "refuse"}[fb.answer.status]


def derive_gold(i: CurationItem) -> tuple[list[str], str | None]:
    """Gold documents and evidence from the feedback: the correction, else the confirmed citations."""
    fb, cits = i.feedback, {c["n"]: c for c in i.feedback.answer.citations}
    corr = fb.correction or {}
    docs = [corr["doc_id"]] if corr.get("doc_id") else []
    evidence = corr.get("quote")
    for v in fb.citation_verdicts:
        c = cits.get(v.get("n"))
        if v["verdict"] == "correct" and c is not None:
            docs = docs or [c["doc_id"]]
            evidence = evidence or c["quote"]
    if not docs:
        bad = {v["n"] for v in fb.citation_verdicts if v["verdict"] in ("wrong_source",)}
        bad_sent = {c for v in fb.sentence_verdicts if v["verdict"] != "supported" for c in fb.answer.sentences[v["sentence"]]["citations"]}
        docs = list(dict.fromkeys(c["doc_id"] for n, c in cits.items() if n not in bad | bad_sent))[:1]
    return docs, evidence


def resolve(s: Session, actor: Actor, item_id: int, res: ResolveIn) -> CurationItem:
    i = get_item(s, item_id)
    if i.status in ("resolved", "dismissed"):
        raise Conflict(f"item {item_id} is already {i.status}")
    docs, evidence = derive_gold(i)
    resolution = {
        "confirmed": res.confirmed,
        "note": res.note,
        "expected": res.expected or default_expected(i),
        "gold_doc_ids": res.gold_doc_ids if res.gold_doc_ids is not None else docs,
        "gold_evidence": res.gold_evidence or evidence,
        "reference_answer": res.reference_answer or (i.feedback.correction or {}).get("answer"),
    }
    if resolution["expected"] == "answer" and res.confirmed and not resolution["gold_doc_ids"]:
        raise BadInput(
            f"item {item_id}: an expected answer needs a gold document",
            hint="pass gold_doc_ids (and gold_evidence), or have the clinician mark a correct citation",
        )
    return _change(s, actor, i, "item.resolve", status="resolved", resolution=resolution, resolved_by=actor.name)
