"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.metrics import CACHE_HITS, INDEX_CHUNKS, REGISTRY

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


NOT_READY = {
    "description": "Not ready: index or models missing (status, error, hint)",
    "content": {"application/json": {"schema": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["not_ready"]}, "error": {"type": "string"}, "hint": {"type": ["string", "null"]},
    }, "required": ["status", "error"]}}},
}
METRICS_TEXT = {"description": "Prometheus text exposition format", "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}


@router.get("/readyz", summary="Readiness: index and models loaded", responses={503: NOT_READY})
async def readyz(request: Request, response: Response) -> dict[str, object]:
    svc = getattr(request.app.state, "service", None)
    err = getattr(request.app.state, "ready_error", None)
    if svc is None:
        response.status_code = 503
        return {"status": "not_ready", "error": err.message if err else "starting", "hint": err.hint if err else None}
    idx = svc.holder.get()
    return {"status": "ready", "index_version": idx.version, "n_chunks": len(idx.chunks), "embedder": idx.embedder_id,
            "models": svc.model_versions()}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, responses={200: METRICS_TEXT})
async def metrics(request: Request) -> Response:
    svc = getattr(request.app.state, "service", None)
    if svc is not None:
        INDEX_CHUNKS.set(len(svc.holder.get().chunks))
        CACHE_HITS.set(svc.cache.hits)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
