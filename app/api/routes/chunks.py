"""GET /v1/chunks/{chunk_id}: the stored text a citation's start/end point into."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ServiceDep
from app.api.openapi import error_responses
from app.query.schemas import ChunkOut

router = APIRouter(tags=["index"])


@router.get("/v1/chunks/{chunk_id:path}", response_model=ChunkOut, summary="A stored chunk (verify citation quotes against its text)",
            responses=error_responses(404))
async def get_chunk(chunk_id: str, svc: ServiceDep) -> ChunkOut:
    return svc.get_chunk(chunk_id)
