"""Thin routes: validate, call the service off the event loop, record, return."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import get_audit, get_service
from app.api.metrics import CACHE_HITS, INDEX_CHUNKS, REGISTRY, observe
from app.query.schemas import ChunkOut, GuidelinesOut, QueryRequest, QueryResponse
from app.query.service import QueryService

router = APIRouter()


@router.post("/v1/query", response_model=QueryResponse, tags=["query"], summary="Answer a clinical question from the guidelines")
async def query(req: QueryRequest, request: Request, svc: QueryService = Depends(get_service)) -> QueryResponse:
    resp = await run_in_threadpool(svc.answer, req)
    observe(resp)
    audit = get_audit(request)
    if audit is not None:
        await run_in_threadpool(audit.record_response, req.question, resp, request.state.request_id)
    return resp


@router.get("/v1/chunks/{chunk_id:path}", response_model=ChunkOut, tags=["index"], summary="A stored chunk (verify citation quotes against its text)")
async def get_chunk(chunk_id: str, svc: QueryService = Depends(get_service)) -> ChunkOut:
    return svc.get_chunk(chunk_id)


@router.get("/v1/guidelines", response_model=GuidelinesOut, tags=["index"], summary="Guidelines in the served index version")
async def guidelines(svc: QueryService = Depends(get_service)) -> GuidelinesOut:
    return svc.guidelines()


@router.get("/healthz", tags=["ops"], summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"], summary="Readiness: index and models loaded")
async def readyz(request: Request, response: Response) -> dict[str, object]:
    svc = getattr(request.app.state, "service", None)
    err = getattr(request.app.state, "ready_error", None)
    if svc is None:
        response.status_code = 503
        return {"status": "not_ready", "error": err.message if err else "starting", "hint": err.hint if err else None}
    idx = svc.holder.get()
    return {"status": "ready", "index_version": idx.version, "n_chunks": len(idx.chunks), "embedder": idx.embedder_id}


@router.get("/metrics", tags=["ops"], summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    svc = getattr(request.app.state, "service", None)
    if svc is not None:
        INDEX_CHUNKS.set(len(svc.holder.get().chunks))
        CACHE_HITS.set(svc.cache.hits)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
