"""FastAPI application factory: `create_app(settings)`; the lifespan loads index and models once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app import __version__
from app.api.routes import ROUTERS
from app.errors import GuidegroundError
from app.settings import Settings, get_settings

log = logging.getLogger("guideground.api")


def create_app(settings: Settings | None = None, service=None) -> FastAPI:
    """Build the app. ``service`` may be injected (tests); otherwise it is built in the lifespan."""
    settings = settings or get_settings()

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
        audit = getattr(app.state, "audit", None)
        if audit is not None:
            audit.dispose()

    app = FastAPI(
        title="guideground",
        version=__version__,
        description=(
            "Answers clinical questions from clinical practice guidelines, and only from them. Every answer "
            "sentence is a verbatim quote with a citation to an exact character span of a stored chunk; when "
            "evidence is weak, conflicting or absent the service abstains with a reason; harmful requests are refused."
        ),
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def limits_and_ids(request: Request, call_next):
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.limits.max_body_bytes:
            return JSONResponse(
                status_code=413,
                content={"error": "payload_too_large", "message": f"request body is {length} bytes; the limit is {settings.limits.max_body_bytes}", "hint": None},
            )
        response = await call_next(request)
        response.headers["x-request-id"] = request.state.request_id
        return response

    @app.exception_handler(GuidegroundError)
    async def _gg_error(_: Request, exc: GuidegroundError) -> JSONResponse:
        return JSONResponse(status_code=exc.http_status, content=exc.to_dict())

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

    for router in ROUTERS:
        app.include_router(router)
    return app
