"""Who the page is talking to, so fragments render only the controls the key's role may use.

This decides what is *shown*; what is *allowed* is decided again by the API route each control posts to.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from app.errors import GuidegroundError
from app.web.api_client import request_key

ORDER = ("reader", "clinician", "curator", "approver", "admin")


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    error: str | None = None  # why the key was not accepted (shown on the page)

    def can(self, role: str) -> bool:
        return self.error is None and ORDER.index(self.role) >= ORDER.index(role)


ANONYMOUS = Viewer("anonymous", "reader")


async def viewer(request: Request) -> Viewer:
    key = request_key(request)
    if not key:
        return ANONYMOUS
    from app.api.auth import get_curation

    try:
        svc = get_curation(request)
        actor = await run_in_threadpool(svc.authenticate, key)
    except GuidegroundError as exc:
        return Viewer("anonymous", "reader", error=exc.message)
    return Viewer(actor.name, actor.role if actor.role in ORDER else "reader")
