"""`openai` generator: any OpenAI-compatible chat-completions server (vLLM, llama.cpp, Ollama, a hosted API).

Talks through the official ``openai`` client (timeouts, retries off: the service falls back to the
extractive answer instead of waiting). The prompt and output contract live in ``prompt.py``; this
module only sends them and turns the reply into drafts. Nothing here decides what is true: every
draft goes to the verifier.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from app.errors import UsageError
from app.query.context import Draft, GenerationInput
from app.query.generate.base import GenerationError
from app.query.generate.prompt import (
    RawSentence,
    SentenceStream,
    Shown,
    build_messages,
    parse_sentences,
    response_format,
    shown_passages,
)

log = logging.getLogger("guideground.generate")
__all__ = ["ChatClient", "GenerationError", "OpenAICompatGenerator", "from_settings"]


class ChatClient:
    """A thin wrapper over ``openai.OpenAI`` for one server: one non-streaming and one streaming call."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None, timeout: float, connect_timeout: float, http_client: Any = None
    ) -> None:
        import openai

        if not base_url:
            raise UsageError("no model server configured", hint="set GUIDEGROUND_LLM__BASE_URL (e.g. http://127.0.0.1:8080/v1)")
        self.base_url = base_url
        self.model = model or "default"
        # A local server needs no key; the client insists on a non-empty one.
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "unused", max_retries=0,
            timeout=openai.Timeout(timeout, connect=connect_timeout), http_client=http_client,
        )

    def complete(self, messages: list[dict[str, str]], **kw: Any) -> tuple[str, dict[str, Any]]:
        """Content and usage of one chat completion."""
        import openai

        try:
            r = self._client.chat.completions.create(model=self.model, messages=messages, **kw)  # type: ignore[call-overload,arg-type]
        except openai.OpenAIError as exc:
            raise GenerationError(f"{self.base_url}: {type(exc).__name__}: {exc}") from exc
        usage = r.usage.model_dump() if r.usage else {}
        return (r.choices[0].message.content or "") if r.choices else "", usage

    def stream(self, messages: list[dict[str, str]], **kw: Any) -> Iterator[str]:
        """Text deltas of one streamed chat completion."""
        import openai

        try:
            for ev in self._client.chat.completions.create(model=self.model, messages=messages, stream=True, **kw):  # type: ignore[call-overload,arg-type,union-attr]
                choices = getattr(ev, "choices", None)
                if choices and choices[0].delta and choices[0].delta.content:
                    yield choices[0].delta.content
        except openai.OpenAIError as exc:
            raise GenerationError(f"{self.base_url}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()


class OpenAICompatGenerator:
    """Generator protocol over a :class:`ChatClient`: prompt from numbered passages, schema-constrained JSON out."""

    name = "openai"

    def __init__(
        self, client: ChatClient, max_tokens: int = 256, temperature: float = 0.0, max_passages: int = 3,
        max_passage_chars: int = 1200, max_sentences: int = 3, json_schema: bool = True,
    ) -> None:
        self.client = client
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_passages = max_passages
        self.max_passage_chars = max_passage_chars
        self.max_sentences = max_sentences
        self.json_schema = json_schema

    def request(self, inp: GenerationInput) -> tuple[list[dict[str, str]], dict[str, Any], list[Shown]]:
        """Messages and request options for one input (also used by the benchmark to call a server directly)."""
        shown = shown_passages(((p.n, p.chunk) for p in inp.passages), self.max_passages, self.max_passage_chars)
        messages = build_messages(inp.question, shown, self.max_sentences)
        kw: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.json_schema:
            kw["response_format"] = response_format([p.n for p in shown], self.max_sentences)
        return messages, kw, shown

    def generate(self, inp: GenerationInput) -> list[Draft]:
        messages, kw, shown = self.request(inp)
        if not shown:
            return []
        content, _ = self.client.complete(messages, **kw)
        return [_draft(s) for s in parse_sentences(content, {p.n for p in shown})]

    def stream(self, inp: GenerationInput) -> Iterator[Draft]:
        messages, kw, shown = self.request(inp)
        if not shown:
            return
        parser = SentenceStream({p.n for p in shown})
        for delta in self.client.stream(messages, **kw):
            for s in parser.feed(delta):
                yield _draft(s)

    def close(self) -> None:
        self.client.close()


def _draft(s: RawSentence) -> Draft:
    return Draft(text=s.text, passages=list(s.passages))


def from_settings(settings: Any) -> OpenAICompatGenerator:
    llm = settings.llm
    key = llm.api_key.get_secret_value() if llm.api_key is not None else None
    client = ChatClient(llm.base_url, llm.model, key, llm.timeout_seconds, llm.connect_timeout_seconds)
    return OpenAICompatGenerator(
        client, llm.max_tokens, llm.temperature, llm.max_passages, llm.max_passage_chars,
        settings.answer.max_sentences, llm.json_schema,
    )
