"""Web pages and their htmx fragments. Pages are shells; every piece of data comes from the JSON API
(app/web/api_client.py) with the user's key, so a page can show nothing the key could not fetch."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.errors import GuidegroundError, NotFound
from app.web import curate, reports
from app.web.api_client import call_api
from app.web.render import HERE, error_fragment, fragment, page
from app.web.roles import viewer


def web_enabled(request: Request) -> None:
    if not request.app.state.settings.web.enabled:
        raise NotFound("the web page is off (web.enabled=false)")


router = APIRouter(include_in_schema=False, dependencies=[Depends(web_enabled)])


def _htmx_file() -> Path:
    # htmx ships inside the plain.htmx wheel (a pinned dependency); served from site-packages, no CDN.
    return Path(str(metadata.distribution("plain.htmx").locate_file("plain/htmx/assets/htmx/vendor/src/htmx.min.js")))


STATIC: dict[str, tuple[Any, str]] = {
    "htmx.min.js": (_htmx_file, "text/javascript"),
    "app.js": (lambda: HERE / "static" / "app.js", "text/javascript"),
    "app.css": (lambda: HERE / "static" / "app.css", "text/css"),
}


router.include_router(curate.router)  # curator fragments, behind the same enabled check


@router.get("/curate", response_class=HTMLResponse)
async def curate_page(request: Request) -> HTMLResponse:
    return page(request, "curate.html", "curate")


@router.get("/static/web/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound(f"no static file {name!r}")
    locate, media = STATIC[name]
    return FileResponse(locate(), media_type=media, headers={"cache-control": "max-age=300"})


# ---------------------------------------------------------------------------------------------- ask
@router.get("/", response_class=HTMLResponse)
async def ask_page(request: Request) -> HTMLResponse:
    return page(request, "ask.html", "ask")


@router.post("/ui/ask", response_class=HTMLResponse)
async def ask(request: Request, question: Annotated[str, Form()]) -> HTMLResponse:
    res = await call_api(request, "POST", "/v1/query", json={"question": question})
    if not res.ok:
        return error_fragment(request, res)
    r = dict(res.body)
    r["query_id"] = r.get("query_id") or res.headers.get("x-query-id")  # the id feedback refers to
    return fragment(request, "_answer.html", r=r, question=question, who=await viewer(request))


def feedback_payload(query_id: str, target: str, index: int, verdict: str, text: str) -> dict[str, Any]:
    """The curation model's feedback body (app/curation/feedback.py FeedbackIn) for one verdict."""
    text = text.strip()
    if target == "sentence":
        body: dict[str, Any] = {"query_id": query_id, "sentences": [{"sentence": index, "verdict": verdict}]}
        if text:
            body["correction"] = {"answer": text}
        return body
    return {"query_id": query_id, "citations": [{"n": index, "verdict": verdict, "note": text or None}]}


@router.post("/ui/feedback", response_class=HTMLResponse)
async def feedback(
    request: Request,
    query_id: Annotated[str, Form()],
    target: Annotated[Literal["sentence", "citation"], Form()],
    index: Annotated[int, Form(ge=0)],
    verdict: Annotated[str, Form()],
    correction: Annotated[str, Form()] = "",
) -> HTMLResponse:
    body = feedback_payload(query_id, target, index, verdict, correction)
    res = await call_api(request, "POST", "/v1/feedback", json=body)
    if not res.ok:
        return error_fragment(request, res)
    return fragment(request, "_feedback_done.html", fb=res.body)


def split_span(text: str, start: int, end: int) -> tuple[str, str, str] | None:
    """Text before, inside and after [start, end) — the stored offsets, never a search for the quote."""
    if not 0 <= start <= end <= len(text):
        return None
    return text[:start], text[start:end], text[end:]


@router.get("/ui/chunk", response_class=HTMLResponse)
async def chunk(
    request: Request, chunk_id: str, start: Annotated[int, Query(ge=0)], end: Annotated[int, Query(ge=0)], n: int = 0
) -> HTMLResponse:
    res = await call_api(request, "GET", f"/v1/chunks/{quote(chunk_id, safe='/:')}")
    if not res.ok:
        return error_fragment(request, res)
    parts = split_span(res.body["text"], start, end)
    return fragment(request, "_chunk.html", c=res.body, parts=parts, n=n, start=start, end=end)


@router.get("/ui/release", response_class=HTMLResponse)
async def release(request: Request) -> HTMLResponse:
    res = await call_api(request, "GET", "/readyz")
    ready = res.body if isinstance(res.body, dict) else {}
    served = None
    if res.ok and (await viewer(request)).can("curator"):  # release ids and statuses are curator data
        got = await call_api(request, "GET", "/v1/releases/served")
        served = got.body.get("release") if got.ok and isinstance(got.body, dict) else None
    return fragment(request, "_release.html", ready=ready, ok=res.ok, release=served)


# ---------------------------------------------------------------------------------------------- eval
@router.get("/eval", response_class=HTMLResponse)
async def eval_latest(request: Request) -> HTMLResponse:
    return page(request, "eval.html", "eval", run="")


@router.get("/eval/{name}", response_class=HTMLResponse)
async def eval_run(request: Request, name: str) -> HTMLResponse:
    return page(request, "eval.html", "eval", run=name)


@router.get("/ui/eval", response_class=HTMLResponse)
async def eval_fragment(request: Request, name: str = "") -> HTMLResponse:
    """The run list and one report (the newest when ``name`` is empty). Loaded with the user's key, so
    with auth.require_reader_key the reports are shown only to a valid key, like every other reader route."""
    who = await viewer(request)
    if request.app.state.settings.auth.require_reader_key and (who.name == "anonymous" or who.error):
        return fragment(request, "_error.html", status=401, err={
            "error": "unauthorized", "message": who.error or "this service needs a reader API key", "hint": "enter your key above"})
    folder = Path(request.app.state.settings.web.reports_dir)
    ctx = await run_in_threadpool(_eval_context, folder, name)  # reads files and draws charts: off the loop
    return fragment(request, "_eval.html", **ctx)


def _eval_context(folder: Path, name: str) -> dict[str, Any]:
    runs = reports.list_runs(folder)
    current = name or (runs[0].name if runs else None)
    css = body = error = None
    if current is not None:
        try:
            css, body = reports.report_body(reports.run_path(folder, current))
        except GuidegroundError as exc:
            error = exc.message
    return {"runs": runs, "current": current, "css": css, "body": body, "error": error, "reports_dir": str(folder)}
