"""POST /v1/feedback: claim-level feedback on a served answer (clinician); faults open a curation item."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app.api.auth import AUTH_RESPONSES, ClinicianDep, CurationDep
from app.api.openapi import error_responses
from app.curation.feedback import FeedbackIn

router = APIRouter(prefix="/v1/feedback", tags=["feedback"], responses=AUTH_RESPONSES)


@router.post("", status_code=201, summary="Per-sentence and per-citation verdicts, an optional correction", responses=error_responses(404, 422))
async def submit_feedback(body: FeedbackIn, actor: ClinicianDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.submit_feedback, actor, body)
