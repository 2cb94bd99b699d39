"""The Jinja2 environment of the web pages and the two ways a route answers: a page or a fragment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.web.api_client import ApiResult, key_header

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html


def page(request: Request, name: str, active: str, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"active": active, "key_header": key_header(request), **ctx})


def fragment(request: Request, name: str, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, ctx)


def error_fragment(request: Request, res: ApiResult) -> HTMLResponse:
    # 200 so htmx swaps it in; the message is the API's own.
    return fragment(request, "_error.html", status=res.status, err=res.error)
