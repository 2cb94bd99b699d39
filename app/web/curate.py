"""Curator fragments: the curation queue, the guideline registry, index releases. Each action posts to the
curation API with the user's key; controls are rendered only for roles that may use them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from app.web.api_client import call_api
from app.web.render import fragment
from app.web.roles import Viewer, viewer

router = APIRouter()
ITEM_STATUSES = ("pending", "triaged", "resolved", "dismissed")
ReleaseAction = Literal["submit", "approve", "reject", "publish", "rollback"]


async def _queue(request: Request, who: Viewer, status: str, message: dict | None = None) -> HTMLResponse:
    params = {"status": status} if status in ITEM_STATUSES else None
    res = await call_api(request, "GET", "/v1/curation/items", params=params)
    return fragment(request, "_queue.html", who=who, res=res, status=status, statuses=ITEM_STATUSES, message=message)


async def _releases(request: Request, who: Viewer, message: dict | None = None) -> HTMLResponse:
    res = await call_api(request, "GET", "/v1/releases")
    served = await call_api(request, "GET", "/v1/releases/served")
    cur = served.body.get("index_version") if served.ok and isinstance(served.body, dict) else None
    return fragment(request, "_releases.html", who=who, res=res, served=cur, message=message)


@router.get("/ui/curate", response_class=HTMLResponse)
async def panel(request: Request) -> HTMLResponse:
    who = await viewer(request)
    if not who.can("curator"):
        return fragment(request, "_curate_denied.html", who=who)
    return fragment(request, "_curate.html", who=who)


@router.get("/ui/queue", response_class=HTMLResponse)
async def queue(request: Request, status: str = "") -> HTMLResponse:
    return await _queue(request, await viewer(request), status)


@router.post("/ui/queue/{item_id}/{action}", response_class=HTMLResponse)
async def queue_action(
    request: Request,
    item_id: int,
    action: Literal["triage", "resolve", "dismiss"],
    status: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> HTMLResponse:
    body: dict[str, Any] = {}
    if action == "triage" and assignee.strip():
        body["assignee"] = assignee.strip()
    elif action == "resolve":
        body = {"confirmed": confirmed == "yes", "note": note.strip() or None}
    elif action == "dismiss" and note.strip():
        body["note"] = note.strip()
    res = await call_api(request, "POST", f"/v1/curation/items/{item_id}/{action}", json=body or None)
    msg = {"ok": res.ok, "text": f"Item #{item_id}: {action} done." if res.ok else res.error["message"]}
    return await _queue(request, await viewer(request), status, msg)


@router.get("/ui/registry", response_class=HTMLResponse)
async def registry(request: Request) -> HTMLResponse:
    res = await call_api(request, "GET", "/v1/registry/guidelines")
    return fragment(request, "_registry.html", res=res)


@router.get("/ui/releases", response_class=HTMLResponse)
async def releases(request: Request) -> HTMLResponse:
    return await _releases(request, await viewer(request))


@router.post("/ui/releases/{release_id}/{action}", response_class=HTMLResponse)
async def release_action(
    request: Request, release_id: int, action: ReleaseAction, reason: Annotated[str, Form()] = ""
) -> HTMLResponse:
    body = {"reason": reason.strip() or "rejected in the web page"} if action == "reject" else None
    res = await call_api(request, "POST", f"/v1/releases/{release_id}/{action}", json=body)
    msg = {"ok": res.ok, "text": f"Release #{release_id}: {action} done." if res.ok else res.error["message"]}
    resp = await _releases(request, await viewer(request), msg)
    if res.ok:
        resp.headers["HX-Trigger"] = "release-changed"  # the served-release line in the header reloads
    return resp
