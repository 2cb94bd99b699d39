"""/v1/admin (admin only): API keys and the audit trail."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import AUTH_RESPONSES, AdminDep, CurationDep
from app.api.deps import RowId
from app.api.openapi import error_responses
from app.curation.models import ROLES

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=AUTH_RESPONSES)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=120, pattern=r"\S", description="The person or client (approval is checked by name).")
    role: Literal["reader", "clinician", "curator", "approver", "admin"] = Field(..., description=f"One of {', '.join(ROLES)}.")


@router.get("/keys", summary="API keys (never the keys themselves)")
async def list_keys(actor: AdminDep, svc: CurationDep) -> list[dict[str, Any]]:
    return await run_in_threadpool(svc.list_keys)


@router.post("/keys", status_code=201, summary="Create a key (shown once in the response)", responses=error_responses(422))
async def create_key(body: KeyCreate, actor: AdminDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.create_key, actor, body.name, body.role)


@router.post("/keys/{key_id}/revoke", summary="Revoke a key", responses=error_responses(404))
async def revoke_key(key_id: RowId, actor: AdminDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.revoke_key, actor, key_id)


@router.get("/audit", summary="The audit trail, oldest first")
async def audit_events(
    actor: AdminDep,
    svc: CurationDep,
    object_type: str | None = Query(None),
    object_id: str | None = Query(None),
    who: str | None = Query(None, alias="actor"),
    limit: int = Query(500, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    return await run_in_threadpool(lambda: svc.audit_events(object_type=object_type, object_id=object_id, actor=who, limit=limit))
