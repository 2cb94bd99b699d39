"""Claim-level feedback from clinicians: per-sentence and per-citation verdicts, an optional correction.

Feedback that finds fault (a verdict other than supported/correct, a correction, a wrong outcome or a
low rating) opens a curation item whose ``kind`` says what to look at first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.curation import audit
from app.curation.answers import get_answer
from app.curation.models import Answer, CurationItem, Feedback
from app.curation.roles import Actor
from app.errors import BadInput
from app.safety.pii import mask_identifiers

SentenceVerdict = Literal["supported", "unsupported", "contradicted", "outdated", "unsafe"]
CitationVerdict = Literal["correct", "wrong_span", "wrong_source", "missing"]
Expected = Literal["answer", "abstain", "refuse"]


class SentenceVerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sentence: int = Field(..., ge=0, description="0-based index into the answer's sentences.")
    verdict: SentenceVerdict
    note: str | None = Field(None, max_length=2000)


class CitationVerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int | None = Field(None, ge=1, description="Citation number; omit for a 'missing' citation.")
    verdict: CitationVerdict
    chunk_id: str | None = Field(None, max_length=300, description="For 'missing' or 'wrong_source': the passage that should be cited.")
    note: str | None = Field(None, max_length=2000)


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: str | None = Field(None, max_length=5000, description="What the service should have said.")
    doc_id: str | None = Field(None, max_length=200, description="The guideline that answers the question.")
    quote: str | None = Field(None, max_length=5000, description="A verbatim span of that guideline that answers it.")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query_id: str = Field(..., min_length=1, max_length=32)
    rating: int | None = Field(None, ge=1, le=5, description="1 harmful … 5 exactly right.")
    expected: Expected | None = Field(None, description="What the service should have done.")
    comment: str | None = Field(None, max_length=5000)
    sentences: list[SentenceVerdictIn] = Field(default_factory=list, max_length=50)
    citations: list[CitationVerdictIn] = Field(default_factory=list, max_length=50)
    correction: CorrectionIn | None = None


def item_kind(a: Answer, fb: FeedbackIn) -> str | None:
    """What the feedback says went wrong, most consequential first; None when nothing did."""
    if fb.expected and fb.expected != {"answered": "answer", "abstained": "abstain", "refused": "refuse"}[a.status]:
        return {"refused": "false_refusal", "abstained": "wrong_abstention"}.get(a.status, "wrong_answer")
    verdicts = {v.verdict for v in fb.sentences}
    for verdict, kind in (("unsafe", "unsafe"), ("contradicted", "unsupported_claim"), ("unsupported", "unsupported_claim"), ("outdated", "outdated")):
        if verdict in verdicts:
            return kind
    if any(c.verdict != "correct" for c in fb.citations):
        return "citation_error"
    if fb.correction is not None:
        return "correction"
    if fb.rating is not None and fb.rating <= 2:
        return "low_rating"
    return None


def _check(a: Answer, fb: FeedbackIn) -> None:
    for v in fb.sentences:
        if v.sentence >= len(a.sentences):
            raise BadInput(f"sentence {v.sentence} does not exist (the answer has {len(a.sentences)})", hint="sentence indexes are 0-based")
    numbers = {c["n"] for c in a.citations}
    for c in fb.citations:
        if c.verdict == "missing":
            continue
        if c.n is None or c.n not in numbers:
            raise BadInput(f"citation {c.n} does not exist (the answer cites {sorted(numbers) or 'nothing'})")


def _m(text: str | None) -> str | None:
    return None if text is None else mask_identifiers(text)


def submit_feedback(s: Session, actor: Actor, fb: FeedbackIn) -> tuple[Feedback, CurationItem | None]:
    a = get_answer(s, fb.query_id)
    _check(a, fb)
    corr = fb.correction.model_dump() if fb.correction else None
    if corr and corr.get("answer"):
        corr["answer"] = _m(corr["answer"])
    row = Feedback(
        query_id=a.id, reviewer=actor.name, role=actor.role, rating=fb.rating, expected=fb.expected, comment=_m(fb.comment),
        sentence_verdicts=[v.model_dump() | {"note": _m(v.note)} for v in fb.sentences],
        citation_verdicts=[c.model_dump() | {"note": _m(c.note)} for c in fb.citations],
        correction=corr,
    )
    s.add(row)
    s.flush()
    audit.record(s, actor, "feedback.submit", "feedback", row.id, None, feedback_dict(row), {"query_id": a.id})
    kind = item_kind(a, fb)
    item = None
    if kind is not None:
        item = CurationItem(feedback_id=row.id, query_id=a.id, kind=kind, status="pending")
        s.add(item)
        s.flush()
        audit.record(s, actor, "item.open", "curation_item", item.id, None, {"kind": kind, "status": "pending"}, {"feedback_id": row.id})
    return row, item


def feedback_dict(f: Feedback) -> dict[str, Any]:
    return {
        "id": f.id, "query_id": f.query_id, "reviewer": f.reviewer, "role": f.role, "rating": f.rating,
        "expected": f.expected, "comment": f.comment, "sentences": f.sentence_verdicts, "citations": f.citation_verdicts,
        "correction": f.correction, "created_at": f.created_at.isoformat(),
    }
