"""API keys and roles for the HTTP layer: ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.

Roles are ordered reader < clinician < curator < approver < admin. Reader routes (query, chunks, the
guideline list, the web page) take ``ReaderDep``: open unless ``auth.require_reader_key``; a key that
is sent must be valid. Every other route takes one of ``ClinicianDep``, ``CuratorDep``,
``ApproverDep``, ``AdminDep``: 401 without a (valid) key, 403 when its role is too low.

The curation service (database) is built on first use, migrations included, and kept on
``app.state.curation``; the query path records answers through it (``record_answer``) and never fails
because the database does.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api.openapi import error_responses
from app.curation.errors import Forbidden, Unauthorized
from app.curation.roles import ANONYMOUS, Actor, at_least
from app.curation.service import CurationService
from app.errors import GuidegroundError, ServiceNotReady

log = logging.getLogger("guideground.api")
_lock = threading.Lock()

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey", description="An API key (`guideground keys create`).")
bearer = HTTPBearer(auto_error=False, scheme_name="Bearer", description="The same API key as a bearer token.")

AUTH_RESPONSES = error_responses(401, 403)
READER_RESPONSES = error_responses(401)


def _build(request: Request) -> CurationService:
    state = request.app.state
    with _lock:
        svc = getattr(state, "curation", None)
        if svc is None:
            svc = CurationService(state.settings)
            state.curation = svc
    return svc


def get_curation(request: Request) -> CurationService:
    svc = getattr(request.app.state, "curation", None)
    if svc is not None:
        return svc
    try:
        return _build(request)
    except GuidegroundError as exc:
        raise ServiceNotReady(f"curation database unavailable: {exc.message}", hint=exc.hint) from None


def optional_curation(request: Request) -> CurationService | None:
    """For recording answers: None when the database is unavailable (a query never fails because of it)."""
    if not request.app.state.settings.database.audit:
        return None
    try:
        return get_curation(request)
    except ServiceNotReady as exc:
        log.error("answers are not recorded: %s", exc.message)
        return None


CurationDep = Annotated[CurationService, Depends(get_curation)]
OptionalCurationDep = Annotated[CurationService | None, Depends(optional_curation)]


def _token(key: str | None, cred: HTTPAuthorizationCredentials | None, request: Request | None = None) -> str | None:
    if request is not None and "authorization" in request.headers and cred is None:
        # A malformed Authorization header is an error, even beside a valid X-API-Key: never guess.
        raise Unauthorized("the Authorization header is not 'Bearer <key>'", hint="send the key as X-API-Key or Authorization: Bearer <key>")
    return key or (cred.credentials if cred is not None else None)


async def _actor(request: Request, token: str) -> Actor:
    svc = await run_in_threadpool(get_curation, request)  # the first call may migrate the database
    return await run_in_threadpool(svc.authenticate, token)


def require(role: str) -> Any:
    async def dependency(
        request: Request,
        key: Annotated[str | None, Security(api_key_header)] = None,
        cred: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> Actor:
        token = _token(key, cred, request)
        if not token:
            raise Unauthorized(f"this route needs an API key with the {role} role", hint="send it as X-API-Key or Authorization: Bearer")
        actor = await _actor(request, token)
        if not at_least(actor.role, role):
            raise Forbidden(f"{actor.name} has the {actor.role} role; this route needs {role}", hint="ask an admin for a key with that role")
        return actor

    dependency.__name__ = f"require_{role}"
    return dependency


async def reader_access(
    request: Request,
    key: Annotated[str | None, Security(api_key_header)] = None,
    cred: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Actor:
    token = _token(key, cred, request)
    if token:
        return await _actor(request, token)
    if request.app.state.settings.auth.require_reader_key:
        raise Unauthorized("this service needs a reader API key", hint="send it as X-API-Key or Authorization: Bearer")
    return ANONYMOUS


ReaderDep = Annotated[Actor, Depends(reader_access)]
ClinicianDep = Annotated[Actor, Depends(require("clinician"))]
CuratorDep = Annotated[Actor, Depends(require("curator"))]
ApproverDep = Annotated[Actor, Depends(require("approver"))]
AdminDep = Annotated[Actor, Depends(require("admin"))]


def reader_routes(*routers: Any) -> Any:
    """One router holding the reader routes, each behind ``reader_access`` (401 documented)."""
    from fastapi import APIRouter

    group = APIRouter(dependencies=[Depends(reader_access)], responses=READER_RESPONSES)
    for r in routers:
        group.include_router(r)
    return group
