"""Browser-test fixtures: a real uvicorn server on loopback and Debian's chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("GUIDEGROUND_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
# The README shows these; GUIDEGROUND_TEST_SCREENSHOTS=<dir> writes them elsewhere (keeps docs/ untouched).
SCREENSHOTS = Path(os.environ.get("GUIDEGROUND_TEST_SCREENSHOTS", REPO / "docs" / "screenshots"))
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
# A loaded 2-core CI machine can take seconds per request (ingest, queue export); wait that long.
TIMEOUT_MS = 30_000


@dataclass
class LiveServer:
    url: str
    app: object
    index_dir: Path
    tmp: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app) -> tuple[object, threading.Thread, str]:
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    ctx.close()


@pytest.fixture(scope="module")
def live(demo_index, tmp_path_factory) -> Iterator[LiveServer]:
    """The app over a private copy of the demo index, served by uvicorn on a free loopback port."""
    from app.api.app import create_app
    from app.settings import Settings

    tmp = tmp_path_factory.mktemp("web")
    root = tmp / "index"
    shutil.copytree(demo_index[0], root)
    settings = Settings(
        index={"dir": str(root)},
        database={"url": f"sqlite:///{tmp / 'gg.db'}"},
        server={"reload_check_seconds": 0.1},
        web={"reports_dir": str(tmp / "reports")},
        curation={"registry_dir": str(tmp / "registry"), "build_dir": str(tmp / "builds"), "feedback_dir": str(tmp / "feedback")},
    )
    app = create_app(settings)
    server, thread, url = start_server(app)
    yield LiveServer(url=url, app=app, index_dir=root, tmp=tmp)
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def shot():
    """shot(page, name): a full-page screenshot into docs/screenshots/NAME.png (shown in the README)."""

    def take(page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture(scope="session")
def axe():
    """axe(page, where): axe-core (the axe.min.js the axe-playwright-python wheel ships) run inside the page;
    fails on any serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    engine = Axe()

    def check(page, where: str) -> None:
        violations = engine.run(page).response["violations"]
        bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
        detail = "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)
        assert not bad, f"axe-core on {where}: {detail}"

    return check
