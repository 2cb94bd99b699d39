"""Calls from the web pages to the JSON API of the same app, in process.

The pages never reach past the API into services: a fragment route forwards the caller's key to the
API route and renders what it answers, so roles, validation, recording and error messages are the API's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request


def key_header(request: Request) -> str:
    """The header the API reads the key from (auth.header; `Authorization: Bearer` works as well)."""
    auth = getattr(request.app.state.settings, "auth", None)
    return str(getattr(auth, "header", "X-API-Key"))


@dataclass
class ApiResult:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> dict[str, Any]:
        """The API's error body ({error, message, hint}) or a generic one."""
        if isinstance(self.body, dict) and "message" in self.body:
            return self.body
        if isinstance(self.body, dict) and "detail" in self.body:
            return {"error": f"http_{self.status}", "message": str(self.body["detail"]), "hint": None}
        return {"error": f"http_{self.status}", "message": f"the API answered {self.status}", "hint": None}


async def call_api(
    request: Request, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
) -> ApiResult:
    headers = {k: v for k in ("authorization", key_header(request)) if (v := request.headers.get(k))}
    headers["x-request-id"] = getattr(request.state, "request_id", "") or "web"
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://guideground.internal", timeout=120) as client:
        resp = await client.request(method, path, json=json, params=params, headers=headers)
    try:
        body = resp.json()
    except ValueError:
        body = {"error": f"http_{resp.status_code}", "message": resp.text[:300] or "no body", "hint": None}
    return ApiResult(resp.status_code, body, {k.lower(): v for k, v in resp.headers.items()})


def request_key(request: Request) -> str | None:
    """The key the page sent (the configured header, or Authorization: Bearer)."""
    key = request.headers.get(key_header(request))
    if key:
        return key.strip() or None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None
