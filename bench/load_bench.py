"""Load run: `guideground serve` on loopback under locust (default 32 concurrent users for 60 s).

Starts the server on the demo index (built first if missing), waits until ready, measures the server's
RSS (all its processes), runs locust in process (headless), measures RSS again, and prints JSON with
requests, failures by status, p50/p95/p99 per request type, throughput and memory. A 503 with
Retry-After is the documented overload answer and is counted apart, not as an error; anything else
that is not 2xx is an error.

    .venv/bin/python bench/load_bench.py [--users 32] [--seconds 60] [--workers 1] [--index DIR] [--out FILE]
"""

# ruff: noqa: I001, E402
from __future__ import annotations

from locust import HttpUser, between, task  # first: locust patches the standard library with gevent

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import gevent
import psutil
from locust.env import Environment

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "From what age should people at average risk begin colorectal cancer screening?",
    "How often should a colonoscopy be repeated after a normal result?",
    "Who should get a Tdap booster?",
    "At what blood pressure should antihypertensive treatment start?",
    "What is the first-line treatment for type 2 diabetes?",
    "How often should women at average risk have a screening mammogram?",
    "What antibiotic treats acute otitis media in toddlers?",
    "When should adults get an influenza vaccine?",
]
SHED: Counter[str] = Counter()
ERRORS: Counter[str] = Counter()


class Reader(HttpUser):
    wait_time = between(0.0, 0.05)

    def _check(self, resp) -> None:
        if resp.status_code == 503 and resp.headers.get("retry-after"):
            SHED["503"] += 1
            resp.success()
        elif resp.status_code >= 400 or resp.status_code == 0:
            ERRORS[f"{resp.status_code}"] += 1
            resp.failure(f"status {resp.status_code}")

    @task(8)
    def query(self) -> None:
        with self.client.post("/v1/query", json={"question": random.choice(QUESTIONS)}, name="POST /v1/query", catch_response=True) as r:
            self._check(r)

    @task(1)
    def guidelines(self) -> None:
        with self.client.get("/v1/guidelines", name="GET /v1/guidelines", catch_response=True) as r:
            self._check(r)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]
    return round(sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20, 1)


def start_server(index: Path, port: int, workers: int, db: Path) -> subprocess.Popen:
    env = dict(os.environ, GUIDEGROUND_DATABASE__URL=f"sqlite:///{db}", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "app.cli", "serve", "--index", str(index), "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("server not ready")


def run_locust(url: str, users: int, seconds: float) -> dict:
    env = Environment(user_classes=[Reader], host=url)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    out = {}
    for (name, _method), s in sorted(env.stats.entries.items()):
        out[name] = _entry(s)
    out["total"] = _entry(env.stats.total)
    return out


def _entry(s) -> dict:
    return {
        "requests": s.num_requests, "failures": s.num_failures,
        "p50_ms": s.get_response_time_percentile(0.5), "p95_ms": s.get_response_time_percentile(0.95),
        "p99_ms": s.get_response_time_percentile(0.99), "rps": round(s.total_rps, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--index", type=Path, default=REPO / "var" / "bench" / "demo-index")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "bench" / "load.json")
    args = ap.parse_args()
    if not (args.index / "CURRENT").is_file():
        subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(REPO / "guidelines"), "--index", str(args.index), "--quiet"], cwd=REPO, check=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    proc = start_server(args.index, port, args.workers, args.out.parent / "load.db")
    try:
        wait_ready(url, proc)
        rss_before = rss_mb(proc.pid)
        t0 = time.monotonic()
        stats = run_locust(url, args.users, args.seconds)
        wall = time.monotonic() - t0
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(120)
    report = {
        "users": args.users, "seconds": args.seconds, "wall_s": round(wall, 1), "workers": args.workers,
        "stats": stats, "shed_503_with_retry_after": sum(SHED.values()), "errors_by_status": dict(ERRORS),
        "rss_mb_before": rss_before, "rss_mb_after": rss_after, "server_exit": proc.returncode,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_1m": round(os.getloadavg()[0], 2)},
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if ERRORS:
        raise SystemExit(f"errors other than documented 503s: {dict(ERRORS)}")


if __name__ == "__main__":
    main()
