"""POST /v1/query: validate, answer off the event loop, record, return."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from app.api.deps import ServiceDep
from app.api.metrics import observe
from app.api.routes.answers import RecorderDep
from app.query.schemas import QueryRequest, QueryResponse

router = APIRouter(tags=["query"])


@router.post("/v1/query", response_model=QueryResponse, summary="Answer a clinical question from the guidelines")
async def query(req: QueryRequest, request: Request, svc: ServiceDep, recorder: RecorderDep) -> QueryResponse:
    resp = await run_in_threadpool(svc.answer, req)
    observe(resp)
    await recorder.record(req.question, resp)  # Answer record with its index release (app/curation); sets query_id
    return resp
