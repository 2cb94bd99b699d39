"""Wiring between the HTTP layer and the services (built once per process in the lifespan)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request

from app.errors import ServiceNotReady
from app.query.service import QueryService
from app.settings import Settings

log = logging.getLogger("guideground.api")


async def build_state(app: FastAPI, settings: Settings, service: QueryService | None) -> None:
    if service is None:
        service = await asyncio.to_thread(QueryService.from_settings, settings)
    app.state.service = service
    app.state.audit = None
    if settings.database.audit:
        try:
            from app.audit.store import AuditStore

            store = AuditStore(settings.database.url)
            store.create_all()
            app.state.audit = store
        except Exception as exc:  # audit must not take the service down
            log.error("audit store unavailable (%s): %s", settings.database.url, exc)


def get_service(request: Request) -> QueryService:
    err = getattr(request.app.state, "ready_error", None)
    svc = getattr(request.app.state, "service", None)
    if svc is None:
        raise ServiceNotReady(
            err.message if err else "service is starting", hint=err.hint if err else "retry in a moment"
        )
    return svc


def get_audit(request: Request) -> Any:
    return getattr(request.app.state, "audit", None)


ServiceDep = Annotated[QueryService, Depends(get_service)]
AuditDep = Annotated[Any, Depends(get_audit)]

# A database row id in a path: positive and within SQL BIGINT, so any schema-valid id is a 404, never a 500.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Row id.")]
