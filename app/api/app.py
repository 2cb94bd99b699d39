"""FastAPI application: `create_app(settings)`, and `create_app_from_env()` for `uvicorn --factory`
(what `guideground serve --workers N` runs in each worker). The lifespan loads index and models once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__
from app.api.docs import mount_offline_docs
from app.api.openapi import install_openapi
from app.api.overload import Gate, OverloadMiddleware
from app.api.routes import ROUTERS
from app.errors import GuidegroundError
from app.settings import Settings, get_settings

log = logging.getLogger("guideground.api")

DESCRIPTION = (
    "Answers clinical questions from clinical practice guidelines, and only from them. Every answer "
    "sentence is a verbatim quote with a citation to an exact character span of a stored chunk; when "
    "evidence is weak, conflicting or absent the service abstains with a reason; harmful requests are refused. "
    "Errors share one body: `{error, message, hint}` (422 adds `detail`)."
)
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def create_app(settings: Settings | None = None, service=None) -> FastAPI:
    """Build the app. ``service`` may be injected (tests); otherwise it is built in the lifespan."""
    settings = settings or get_settings()
    gate = Gate(settings.limits.max_in_flight, settings.limits.max_queued)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from app.api.deps import build_state

        app.state.settings = settings
        app.state.ready_error = None
        try:
            await build_state(app, settings, service)
        except GuidegroundError as exc:
            # Stay up so /healthz and /readyz can say what is wrong.
            app.state.ready_error = exc
            log.error("service not ready: %s (%s)", exc.message, exc.hint)
        yield
        # uvicorn has stopped accepting and waited for open requests; timed-out work may still run in threads.
        if not await gate.drain(settings.limits.shutdown_grace_seconds):
            log.warning("shutting down with %d request(s) still running", gate.running)
        audit = getattr(app.state, "audit", None)
        if audit is not None:
            audit.dispose()
        svc = getattr(app.state, "service", None)
        if svc is not None and hasattr(svc, "close"):
            svc.close()  # stops the local llama.cpp server when the service started one

    app = FastAPI(
        title="guideground", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None,
    )
    app.state.gate = gate
    app.add_middleware(OverloadMiddleware, limits=settings.limits, gate=gate)
    _install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_offline_docs(app)
    install_openapi(app, settings)
    return app


def create_app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory app.api.app:create_app_from_env`: settings from GUIDEGROUND_* env."""
    return create_app(Settings())


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GuidegroundError)
    async def _gg_error(_: Request, exc: GuidegroundError) -> JSONResponse:
        return JSONResponse(status_code=exc.http_status, content=exc.to_dict())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(
            status_code=exc.status_code, headers=getattr(exc, "headers", None),
            content={"error": code, "message": str(exc.detail), "hint": "see /docs for the routes and their schemas"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return JSONResponse(
            status_code=422,
            content={"error": "invalid_request", "message": f"{where}: {first['msg']}", "hint": "see /docs for the request schema", "detail": errors},
        )
