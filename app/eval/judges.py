"""Citation judges for evaluation: independent of the service's verifier by construction.

The ALCE citation metrics ask a judge "does this passage support this sentence?". If the judge were
the verifier that chose the sentences, every kept sentence would pass by construction (the metric
read 1.0 before this module existed). So nothing here imports ``app.query.verify`` or
``app.query.support``: the judge is a language model behind any OpenAI-compatible endpoint, asked
with its own prompt and a boolean JSON schema. With no judge configured the citation metrics are
not computed (None), rather than computed by the wrong party.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

log = logging.getLogger("guideground.eval.judge")

JUDGE_SYSTEM = (
    "You check statements against a source text. A statement is supported only if the source states "
    "everything in it: every number, unit, drug, population and the direction of the advice (do / do not). "
    "Answer with JSON only."
)
JUDGE_SCHEMA = {
    "type": "object",
    "properties": {"supported": {"type": "boolean"}},
    "required": ["supported"],
    "additionalProperties": False,
}


class Judge(Protocol):
    """Does ``premise`` (one or more cited passages, joined) support ``claim``?"""

    name: str

    def supports(self, premise: str, claim: str) -> bool: ...


class LLMJudge:
    """An LLM behind an OpenAI-compatible chat endpoint, asked for ``{"supported": bool}`` under a JSON schema.

    Answers are cached per (premise, claim): ALCE asks the same pair more than once. A reply that is
    not the contract counts as "not supported" and is counted in ``errors``.
    """

    def __init__(self, client: Any, model_name: str = "", max_tokens: int = 16, json_schema: bool = True) -> None:
        self.client = client  # anything with .complete(messages, **kw) -> (content, usage), e.g. generate.openai_compat.ChatClient
        self.name = f"llm:{model_name or getattr(client, 'model', 'default')}"
        self.max_tokens = max_tokens
        self.json_schema = json_schema
        self.calls = self.errors = 0
        self._cache: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def messages(self, premise: str, claim: str) -> list[dict[str, str]]:
        user = f"Source:\n{premise}\n\nStatement:\n{claim}\n\nIs the statement fully supported by the source?"
        return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]

    def supports(self, premise: str, claim: str) -> bool:
        key = (premise, claim)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        kw: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": 0.0}
        if self.json_schema:
            kw["response_format"] = {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True, "schema": JUDGE_SCHEMA}}
        content, _ = self.client.complete(self.messages(premise, claim), **kw)
        verdict = parse_verdict(content)
        with self._lock:
            self.calls += 1
            if verdict is None:
                self.errors += 1
                log.warning("judge reply is not a verdict: %r", content[:200])
            self._cache[key] = bool(verdict)
        return bool(verdict)


def parse_verdict(content: str) -> bool | None:
    try:
        obj = json.loads(content)
    except (TypeError, ValueError):
        return None
    v = obj.get("supported") if isinstance(obj, dict) else None
    return v if isinstance(v, bool) else None


def llm_judge(url: str, model: str = "", api_key: str | None = None, timeout: float = 60.0) -> LLMJudge:
    """An :class:`LLMJudge` for an OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1)."""
    from app.query.generate.openai_compat import ChatClient

    return LLMJudge(ChatClient(url, model, api_key, timeout, min(timeout, 10.0)), model)


class LocalLlamaJudge(LLMJudge):
    """:class:`LLMJudge` on a llama.cpp server this process starts on loopback (the packaged GGUF model, or
    ``model_path``), stopped with :meth:`close`. A small local model is a weak judge: use it to exercise the
    path offline, and an OpenAI-compatible endpoint to a capable model for numbers that matter."""

    def __init__(self, model_path: str | None = None, threads: int = 2, timeout: float = 120.0) -> None:
        from pathlib import Path

        from app.query.generate.llamacpp import LlamaCppServer, packaged_model
        from app.query.generate.openai_compat import ChatClient

        model = Path(model_path) if model_path else packaged_model()
        self.server = LlamaCppServer(model, threads=threads).start()
        super().__init__(ChatClient(self.server.base_url, model.stem, self.server.key, timeout, min(timeout, 10.0)), model.stem)

    def close(self) -> None:
        self.server.stop()


def get_judge(kind: str, url: str | None = None, model: str = "", api_key: str | None = None, timeout: float = 60.0) -> Judge | None:
    """``none`` → no citation metrics; ``llm`` → :func:`llm_judge` (needs ``url``); ``llamacpp`` → a local
    llama.cpp server with the packaged model (or the GGUF file given as ``model``)."""
    from app.errors import UsageError

    if kind == "none":
        return None
    if kind == "llamacpp":
        return LocalLlamaJudge(model or None, timeout=max(timeout, 120.0))
    if kind == "llm":
        if not url:
            raise UsageError("--judge llm needs --judge-url", hint="any OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1")
        return llm_judge(url, model, api_key, timeout)
    raise UsageError(f"unknown judge '{kind}'", hint="use --judge llm --judge-url URL, --judge llamacpp, or --judge none")
