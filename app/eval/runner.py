"""Run cases through the query path (in process or over HTTP) and collect what scoring needs.

The runner only knows two callables: ``ask(QueryRequest) -> QueryResponse`` and
``get_chunk(chunk_id) -> text``. In process they are ``QueryService.answer`` and
``QueryService.get_chunk``; with ``--url`` they are ``POST /v1/query`` and ``GET /v1/chunks/{id}``,
so evaluation exercises exactly the code path the API serves.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from app.eval.cases import EvalCase
from app.query.schemas import QueryRequest, QueryResponse

Ask = Callable[[QueryRequest], QueryResponse]
GetChunk = Callable[[str], str]
Progress = Callable[[str, int, int], None]


@dataclass
class CaseResult:
    case: EvalCase
    response: QueryResponse | None
    chunk_texts: dict[str, str | None] = field(default_factory=dict)  # cited chunk_id → full text (None: not found)
    wall_ms: float = 0.0
    error: str | None = None

    @property
    def status(self) -> str:
        return self.response.status if self.response is not None else "error"


def select_cases(cases: Sequence[EvalCase], limit: int | None = None, seed: int | None = None) -> list[EvalCase]:
    """The first ``limit`` cases, or with a seed a random sample of ``limit`` (kept in file order)."""
    if limit is None or limit >= len(cases):
        return list(cases)
    if seed is None:
        return list(cases[:limit])
    picked = sorted(random.Random(seed).sample(range(len(cases)), limit))
    return [cases[i] for i in picked]


class ChunkCache:
    """Fetches each cited chunk once per run; a chunk that cannot be fetched is recorded as None."""

    def __init__(self, get_chunk: GetChunk) -> None:
        self.get_chunk = get_chunk
        self.texts: dict[str, str | None] = {}
        self.failures: dict[str, str] = {}

    def get(self, chunk_id: str) -> str | None:
        if chunk_id not in self.texts:
            try:
                self.texts[chunk_id] = self.get_chunk(chunk_id)
            except Exception as exc:  # a missing chunk is a finding (quote invariant fails), not a crash
                self.texts[chunk_id] = None
                self.failures[chunk_id] = f"{type(exc).__name__}: {exc}"
        return self.texts[chunk_id]


def run_case(case: EvalCase, ask: Ask, chunks: ChunkCache, top_k: int | None = None) -> CaseResult:
    t0 = time.perf_counter()
    try:
        resp = ask(QueryRequest(question=case.question, top_k=top_k))
    except Exception as exc:  # recorded per case: one bad case must not sink the run
        msg = getattr(exc, "message", None) or str(exc)
        return CaseResult(case, None, wall_ms=_ms(t0), error=f"{type(exc).__name__}: {msg}"[:500])
    wall = _ms(t0)
    texts = {c.chunk_id: chunks.get(c.chunk_id) for c in resp.citations}
    return CaseResult(case, resp, texts, wall_ms=wall)


def run_cases(
    cases: Sequence[EvalCase],
    ask: Ask,
    get_chunk: GetChunk,
    top_k: int | None = None,
    progress: Progress | None = None,
) -> list[CaseResult]:
    chunks = ChunkCache(get_chunk)
    results: list[CaseResult] = []
    for i, case in enumerate(cases):
        results.append(run_case(case, ask, chunks, top_k))
        if progress:
            progress("eval", i + 1, len(cases))
    return results


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


# ---------------------------------------------------------------------------------------- backends
def service_backend(svc: Any) -> tuple[Ask, GetChunk]:
    """In process: the very methods the API routes call."""
    return svc.answer, lambda chunk_id: svc.get_chunk(chunk_id).text


class HttpBackend:
    """A running server: POST {url}/v1/query, GET {url}/v1/chunks/{chunk_id}."""

    def __init__(self, url: str, timeout: float = 60.0, client: Any = None) -> None:
        import httpx

        self.client = client or httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def check(self) -> dict[str, Any]:
        """Fail fast (before a run of N connection errors) when the server is down or not ready; the readiness
        answer (index version, model versions) when it is."""
        import httpx

        from app.errors import ServiceNotReady, UsageError

        try:
            r = self.client.get("/readyz")
        except httpx.HTTPError as exc:
            raise UsageError(f"cannot reach {self.client.base_url}: {exc}", hint="start it with `guideground serve`") from None
        if r.status_code != 200:
            raise ServiceNotReady(f"{self.client.base_url} is not ready (HTTP {r.status_code}): {r.text[:200]}")
        try:
            ready = r.json()
        except ValueError:
            return {}
        return ready if isinstance(ready, dict) else {}

    def ask(self, req: QueryRequest) -> QueryResponse:
        r = self.client.post("/v1/query", json=req.model_dump(mode="json", exclude_none=True))
        if r.status_code != 200:
            raise RuntimeError(f"POST /v1/query → HTTP {r.status_code}: {r.text[:300]}")
        return QueryResponse.model_validate(r.json())

    def get_chunk(self, chunk_id: str) -> str:
        r = self.client.get(f"/v1/chunks/{quote(chunk_id, safe='/')}")
        if r.status_code != 200:
            raise RuntimeError(f"GET /v1/chunks/{chunk_id} → HTTP {r.status_code}")
        return str(r.json()["text"])

    def close(self) -> None:
        self.client.close()
