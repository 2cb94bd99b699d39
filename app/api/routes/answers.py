"""Answers: every served response is recorded (``Recorder``, used by the query routes) and can be read
back with ``GET /v1/answers/{query_id}`` (clinician) — question masked, with its index release."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.auth import AUTH_RESPONSES, ClinicianDep, CurationDep, OptionalCurationDep, ReaderDep
from app.api.openapi import error_responses
from app.curation.roles import Actor
from app.curation.service import CurationService

log = logging.getLogger("guideground.api")
router = APIRouter(prefix="/v1/answers", tags=["feedback"], responses=AUTH_RESPONSES)


class Recorder:
    """Records a served response with its index release; sets ``query_id`` (body when the response model
    has the field, and the ``X-Query-Id`` header). A database error never fails the query."""

    def __init__(self, svc: CurationService | None, actor: Actor, request: Request, response: Response) -> None:
        self.svc, self.actor, self.request, self.response = svc, actor, request, response

    async def record(self, question: str, resp: Any) -> str | None:
        if self.svc is None:
            return None
        rid = getattr(self.request.state, "request_id", None)
        who = None if self.actor.anonymous else self.actor.name
        try:
            qid = await run_in_threadpool(self.svc.record_answer, question, resp, rid, who)
        except Exception as exc:  # the answer is served even when it cannot be recorded
            log.error("answer not recorded: %s", exc)
            return None
        if "query_id" in type(resp).model_fields:
            resp.query_id = qid
        self.response.headers["x-query-id"] = qid
        return qid


def get_recorder(request: Request, response: Response, actor: ReaderDep, svc: OptionalCurationDep) -> Recorder:
    return Recorder(svc, actor, request, response)


RecorderDep = Annotated[Recorder, Depends(get_recorder)]


@router.get("/{query_id}", summary="A recorded answer (question masked) with its release", responses=error_responses(404))
async def get_answer(query_id: str, actor: ClinicianDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.get_answer, query_id)
