"""Index releases: build (curator) → submit (curator) → approve (approver, not the submitter) →
publish (curator; switches the served index) → rollback (curator)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import AUTH_RESPONSES, ApproverDep, CurationDep, CuratorDep
from app.api.deps import RowId
from app.api.openapi import error_responses

router = APIRouter(prefix="/v1/releases", tags=["releases"], responses=AUTH_RESPONSES)


class BuildIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str | None = Field(None, max_length=2000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., min_length=1, max_length=2000)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    force: bool = Field(False, description="Serve it even if it contains versions a curator retired.")


@router.get("", summary="All releases")
async def list_releases(actor: CuratorDep, svc: CurationDep) -> list[dict[str, Any]]:
    return await run_in_threadpool(svc.list_releases)


@router.post(
    "", status_code=201, responses=error_responses(409, 422),
    summary="Build a release from the registry's citable versions (ingest; large builds: `guideground releases build`)",
)
async def build_release(actor: CuratorDep, svc: CurationDep, body: BuildIn | None = None) -> dict[str, Any]:
    return await run_in_threadpool(svc.build_release, actor, body.notes if body else None)


@router.get("/served", summary="The served index version and its release")
async def served(actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.served)


@router.get("/{release_id}", summary="One release", responses=error_responses(404))
async def get_release(release_id: RowId, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.get_release, release_id)


@router.post("/{release_id}/submit", summary="Submit a built release for approval", responses=error_responses(404, 409))
async def submit(release_id: RowId, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.submit_release, actor, release_id)


@router.post("/{release_id}/approve", summary="Approve (approver; never the submitter)", responses=error_responses(404, 409))
async def approve(release_id: RowId, actor: ApproverDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.approve_release, actor, release_id)


@router.post("/{release_id}/reject", summary="Reject a submitted or approved release", responses=error_responses(404, 409))
async def reject(release_id: RowId, body: RejectIn, actor: ApproverDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.reject_release, actor, release_id, body.reason)


@router.post("/{release_id}/publish", summary="Serve an approved release (the server reloads it live)", responses=error_responses(404, 409))
async def publish(release_id: RowId, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.publish_release, actor, release_id)


@router.post("/{release_id}/rollback", summary="Serve an earlier published release again", responses=error_responses(404, 409))
async def rollback(release_id: RowId, actor: CuratorDep, svc: CurationDep, body: RollbackIn | None = None) -> dict[str, Any]:
    return await run_in_threadpool(svc.rollback, actor, release_id, bool(body and body.force))
