"""GET /v1/guidelines: the guidelines in the served index version."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ServiceDep
from app.query.schemas import GuidelinesOut

router = APIRouter(tags=["index"])


@router.get("/v1/guidelines", response_model=GuidelinesOut, summary="Guidelines in the served index version")
async def guidelines(svc: ServiceDep) -> GuidelinesOut:
    return svc.guidelines()
