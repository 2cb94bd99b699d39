"""Answer records: every served response, with its query_id and index release (question masked)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation.models import Answer
from app.curation.releases import release_for_version
from app.errors import NotFound
from app.safety.pii import mask_identifiers

if TYPE_CHECKING:
    from app.query.schemas import QueryResponse

MAX_TEXT = 20_000


def _mask(text: str | None) -> str | None:
    return None if text is None else mask_identifiers(text[:MAX_TEXT])


def record_answer(
    s: Session, question: str, resp: QueryResponse, request_id: str | None = None, actor: str | None = None
) -> Answer:
    """Store one response. The id is the response's ``query_id`` when it has one, else a new one."""
    qid = getattr(resp, "query_id", None) or uuid.uuid4().hex
    release = release_for_version(s, resp.index_version)
    # Citation quotes are guideline text (also served by GET /v1/chunks): kept verbatim, they become gold evidence.
    citations = [c.model_dump() for c in resp.citations]
    row = Answer(
        id=qid,
        release_id=release.id if release else None,
        index_version=resp.index_version,
        question=_mask(question) or "",
        status=resp.status,
        reason=resp.reason,
        category=resp.category,
        answer=_mask(resp.answer),
        sentences=[{"text": _mask(x.text), "citations": list(x.citations)} for x in resp.sentences],
        citations=citations,
        timings={k: float(v) for k, v in resp.timings_ms.model_dump().items()},
        request_id=request_id,
        actor=actor,
    )
    s.add(row)
    s.flush()
    return row


def answer_dict(a: Answer) -> dict[str, Any]:
    return {
        "query_id": a.id, "created_at": a.created_at.isoformat(), "release_id": a.release_id,
        "index_version": a.index_version, "question": a.question, "status": a.status, "reason": a.reason,
        "category": a.category, "answer": a.answer, "sentences": a.sentences, "citations": a.citations,
        "timings_ms": a.timings, "request_id": a.request_id, "actor": a.actor,
    }


def get_answer(s: Session, query_id: str) -> Answer:
    a = s.get(Answer, query_id)
    if a is None:
        raise NotFound(f"no recorded answer '{query_id}'", hint="use the query_id returned with the answer")
    return a


def recent_answers(s: Session, limit: int = 50) -> list[Answer]:
    return list(s.scalars(select(Answer).order_by(Answer.created_at.desc(), Answer.id).limit(limit)))
