"""/docs and /redoc render with the network unreachable: headless Debian chromium, every request to a
host other than the loopback server aborted, and the rendered operations checked on the page."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest


@pytest.fixture
def offline_page(browser):
    """A page whose every non-loopback request is aborted (recorded in ``page.blocked``)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def only_loopback(route) -> None:
        host = urlparse(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    ctx.route("**/*", only_loopback)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.blocked = blocked  # type: ignore[attr-defined]
    yield page
    ctx.close()


def test_swagger_ui_renders_every_operation_offline(live, offline_page) -> None:
    page = offline_page
    page.goto(f"{live.url}/docs")
    page.wait_for_selector(".opblock-summary-path", state="visible")
    paths = {el.inner_text().replace("\u200b", "").strip() for el in page.query_selector_all(".opblock-summary-path")}
    assert {"/v1/query", "/v1/chunks/{chunk_id}", "/v1/guidelines", "/healthz", "/metrics"} <= paths, paths
    # the operations come from the served OpenAPI document, all of them
    documented = offline_page.evaluate("fetch('/openapi.json').then(r => r.json()).then(d => Object.keys(d.paths))")
    assert set(documented) <= paths
    # expanding an operation shows its documented error model
    page.click("#operations-query-query_v1_query_post .opblock-summary")
    page.wait_for_selector("#operations-query-query_v1_query_post .responses-table")
    body = page.inner_text("#operations-query-query_v1_query_post")
    for code in ("413", "422", "503", "504"):
        assert code in body
    assert not page.blocked, f"/docs tried to reach the network: {page.blocked}"


def test_redoc_renders_offline(live, offline_page) -> None:
    page = offline_page
    page.goto(f"{live.url}/redoc")
    page.wait_for_selector("text=Answer a clinical question from the guidelines", state="attached")
    text = page.inner_text("body")
    assert "/v1/query" in text or "Answer a clinical question from the guidelines" in text
    assert "Prometheus metrics" in text
    assert not page.blocked, f"/redoc tried to reach the network: {page.blocked}"


def test_docs_assets_come_from_the_app(live) -> None:
    import httpx

    html = httpx.get(f"{live.url}/docs").text
    assert "cdn.jsdelivr.net" not in html and "/static/docs/swagger-ui-bundle.js" in html
    js = httpx.get(f"{live.url}/static/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert b"cdn.redoc.ly" not in httpx.get(f"{live.url}/static/redoc.standalone.js").content
    redoc = httpx.get(f"{live.url}/redoc").text
    assert "cdn.jsdelivr.net" not in redoc and "fonts.googleapis.com" not in redoc
