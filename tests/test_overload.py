"""Overload, deadlines and shutdown, for real: `guideground serve` in a subprocess (uvicorn, the app
factory, the real index, encoder and screen) hit by concurrent HTTP clients on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
QUESTION = {"question": "From what age should people at average risk begin colorectal cancer screening?"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, index: Path, tmp: Path, workers: int = 1, **limits: object) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, GUIDEGROUND_DATABASE__URL=f"sqlite:///{tmp / 'serve.db'}", HF_HUB_OFFLINE="1")
        env.update({f"GUIDEGROUND_LIMITS__{k.upper()}": str(v) for k, v in limits.items()})
        self.log = open(tmp / f"serve-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--index", str(index), "--port", str(self.port), "--workers", str(workers)],
            cwd=tmp, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.wait_ready(workers)

    def wait_ready(self, workers: int, timeout: float = 300) -> None:
        end, ready = time.monotonic() + timeout, 0
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.tail()
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=5)
            except httpx.HTTPError:
                ready = 0
            else:
                if r.status_code == 503 and r.json().get("error") not in (None, "starting"):
                    pytest.fail(f"server cannot get ready: {r.json()}")
                ready = ready + 1 if r.status_code == 200 else 0
            if ready >= 4 * workers:  # several answers in a row: every worker is up
                return
            time.sleep(0.25)
        pytest.fail(f"server not ready: {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def index_copy(demo_index, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("overload") / "index"
    shutil.copytree(demo_index[0], root)
    return root


def _post_many(url: str, n: int) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        return httpx.post(f"{url}/v1/query", json=QUESTION, timeout=120)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.mark.slow
def test_two_workers_shed_load_with_503_and_retry_after(index_copy, tmp_path) -> None:
    server = Server(index_copy, tmp_path, workers=2, max_in_flight=1, max_queued=1, retry_after_seconds=2)
    try:
        responses = _post_many(server.url, 24)
        codes = [r.status_code for r in responses]
        assert set(codes) <= {200, 503}, codes
        shed = [r for r in responses if r.status_code == 503]
        assert shed and codes.count(200) >= 2, codes
        for r in shed:
            assert r.headers["retry-after"] == "2" and r.json()["error"] == "overloaded" and r.json()["hint"]
        for r in responses:
            if r.status_code == 200:
                assert r.json()["status"] == "answered" and "45" in r.json()["answer"]
        # probes are never queued
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        assert server.stop() in (0, -signal.SIGTERM), server.tail()


@pytest.mark.slow
def test_sigterm_lets_queued_and_running_requests_finish(index_copy, tmp_path) -> None:
    server = Server(index_copy, tmp_path, workers=1, max_in_flight=1, max_queued=32, shutdown_grace_seconds=60)
    n = 8
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(_post_many, server.url, n)
        # wait until all n are inside the server (running or queued), then ask it to stop
        end = time.monotonic() + 60
        while time.monotonic() < end:
            m = httpx.get(f"{server.url}/metrics").text
            inside = sum(float(line.split()[-1]) for line in m.splitlines() if line.startswith(("guideground_requests_in_flight ", "guideground_requests_queued ")))
            if inside >= n - 1 or pending.done():
                break
            time.sleep(0.01)
        server.proc.send_signal(signal.SIGTERM)
        responses = pending.result(timeout=300)
    assert [r.status_code for r in responses] == [200] * n
    assert all(r.json()["status"] == "answered" for r in responses)
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status is -15 (or 0 from a supervisor)
    assert server.proc.wait(120) in (0, -signal.SIGTERM), server.tail()
    assert "Shutting down" in server.tail()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=2)


def test_request_over_its_deadline_gets_504_and_probes_still_answer(demo_index, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from app.api.app import create_app
    from app.settings import Settings

    s = Settings(index={"dir": str(demo_index[0])}, database={"url": f"sqlite:///{tmp_path / 'gg.db'}"},
                 limits={"request_timeout_seconds": 0.001})
    with TestClient(create_app(s)) as client:
        r = client.post("/v1/query", json=QUESTION)
        assert r.status_code == 504 and r.json()["error"] == "timeout" and r.json()["hint"]
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        assert 'guideground_requests_rejected_total{reason="timeout"}' in client.get("/metrics").text


def test_body_over_the_limit_is_413_declared_or_streamed(demo_index, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from app.api.app import create_app
    from app.settings import Settings

    s = Settings(index={"dir": str(demo_index[0])}, database={"url": f"sqlite:///{tmp_path / 'gg.db'}"},
                 limits={"max_body_bytes": 2048})
    with TestClient(create_app(s)) as client:
        r = client.post("/v1/query", content=b"{" + b" " * 4000 + b"}", headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

        def chunks():
            for _ in range(8):
                yield b" " * 1024

        r = client.post("/v1/query", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] in ("payload_too_large", "http_413")
