"""The curation queue (curator): list, triage, resolve, dismiss; resolved items as eval cases."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import AUTH_RESPONSES, CurationDep, CuratorDep
from app.api.deps import RowId
from app.api.openapi import error_responses
from app.curation.queue import ResolveIn

router = APIRouter(prefix="/v1/curation", tags=["curation"], responses=AUTH_RESPONSES)


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str | None = Field(None, max_length=120, description="Default: the caller.")


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=5000)


@router.get("/items", summary="The queue, oldest first", responses=error_responses(422))
async def list_items(
    actor: CuratorDep,
    svc: CurationDep,
    status: Literal["pending", "triaged", "resolved", "dismissed"] | None = Query(None),
    kind: str | None = Query(None, max_length=100),
) -> list[dict[str, Any]]:
    return await run_in_threadpool(svc.list_items, status, kind)


@router.get("/items/{item_id}", summary="One item with its feedback and answer", responses=error_responses(404))
async def get_item(item_id: RowId, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.get_item, item_id)


@router.post("/items/{item_id}/triage", summary="Assign an item", responses=error_responses(404, 409))
async def triage(item_id: RowId, actor: CuratorDep, svc: CurationDep, body: TriageIn | None = None) -> dict[str, Any]:
    return await run_in_threadpool(svc.triage_item, actor, item_id, body.assignee if body else None)


@router.post("/items/{item_id}/resolve", summary="Resolve (confirmed items become eval cases and training data)", responses=error_responses(404, 409, 422))
async def resolve(item_id: RowId, body: ResolveIn, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.resolve_item, actor, item_id, body)


@router.post("/items/{item_id}/dismiss", summary="Dismiss an item", responses=error_responses(404, 409))
async def dismiss(item_id: RowId, actor: CuratorDep, svc: CurationDep, body: DismissIn | None = None) -> dict[str, Any]:
    return await run_in_threadpool(svc.dismiss_item, actor, item_id, body.note if body else None)


@router.get(
    "/export",
    summary="Confirmed items as `guideground eval` cases (JSON, or JSONL with format=jsonl)",
    responses={200: {"content": {"application/json": {}, "application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def export_cases(actor: CuratorDep, svc: CurationDep, format: Literal["json", "jsonl"] = "json") -> Any:
    cases = await run_in_threadpool(svc.export_cases)
    if format == "jsonl":
        import json

        return PlainTextResponse("".join(json.dumps(c) + "\n" for c in cases), media_type="application/x-ndjson")
    return {"n": len(cases), "cases": cases}
