"""Guideline registry (curator): guidelines, their versions (file upload + metadata), retire / reject."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import AUTH_RESPONSES, CurationDep, CuratorDep
from app.api.deps import RowId
from app.api.openapi import error_responses

router = APIRouter(prefix="/v1/registry", tags=["registry"], responses=AUTH_RESPONSES)


class GuidelineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(
        ..., min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="Stable id; becomes the doc_id of every version in an index.", examples=["demo-crc"],
    )
    title: str = Field(..., min_length=1, max_length=500, pattern=r"\S", description="Not blank.")
    issuer: str = Field("", max_length=300)
    topic: str = Field("", max_length=200)
    url: str = Field("", max_length=1000)


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., min_length=1, max_length=500)


@router.get("/guidelines", summary="Registered guidelines and their versions")
async def list_guidelines(actor: CuratorDep, svc: CurationDep) -> list[dict[str, Any]]:
    return await run_in_threadpool(svc.list_guidelines)


@router.post("/guidelines", status_code=201, summary="Register a guideline", responses=error_responses(409, 422))
async def create_guideline(body: GuidelineCreate, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(lambda: svc.create_guideline(actor, **body.model_dump()))


@router.get("/guidelines/{ref}", summary="One guideline (id or slug) with its versions", responses=error_responses(404))
async def get_guideline(ref: str, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.get_guideline, ref)


@router.post(
    "/guidelines/{ref}/versions", status_code=201, summary="Register a version: file and metadata (a draft)",
    responses=error_responses(404, 409, 413, 422),
)
async def add_version(
    ref: str,
    actor: CuratorDep,
    svc: CurationDep,
    file: Annotated[UploadFile, File(description="The guideline (PDF, HTML, DOCX, Markdown, text).")],
    label: Annotated[str, Form(description="Version label, e.g. 2026.1.")],
    published: Annotated[date | None, Form()] = None,
    effective: Annotated[date | None, Form()] = None,
    next_review: Annotated[date | None, Form()] = None,
    supersedes_id: Annotated[int | None, Form(description="The version this one replaces.")] = None,
) -> dict[str, Any]:
    data = await file.read()
    return await run_in_threadpool(
        lambda: svc.add_version(actor, ref, label, file.filename or "upload", data, published=published,
                                effective=effective, next_review=next_review, supersedes_id=supersedes_id)
    )


@router.get("/versions/{version_id}", summary="One guideline version", responses=error_responses(404))
async def get_version(version_id: RowId, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.get_version, version_id)


@router.post("/versions/{version_id}/retire", summary="Retire a version: no future release contains it", responses=error_responses(404, 409))
async def retire_version(version_id: RowId, body: Reason, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.retire_version, actor, version_id, body.reason)


@router.post("/versions/{version_id}/reject", summary="Reject a draft or in-review version", responses=error_responses(404, 409))
async def reject_version(version_id: RowId, body: Reason, actor: CuratorDep, svc: CurationDep) -> dict[str, Any]:
    return await run_in_threadpool(svc.reject_version, actor, version_id, body.reason)
