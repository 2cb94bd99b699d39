"""ASGI middleware between uvicorn and the app: request ids, the body limit, a bounded queue and a
per-request deadline.

* Body: a declared ``content-length`` over ``limits.max_body_bytes`` gets 413 at once; a chunked body
  is counted as it is read and stopped at the limit (413 as well).
* Queue: at most ``limits.max_in_flight`` requests run at once; up to ``limits.max_queued`` more wait
  for a slot; beyond that the request is answered 503 ``overloaded`` with ``Retry-After`` at once,
  so work never piles up without bound.
* Deadline: a request not answered ``limits.request_timeout_seconds`` after it arrived (queue wait
  included) gets 504 ``timeout``. The handler's worker thread cannot be killed; its slot stays taken
  until it ends, so timed-out work still counts against the queue.

Ops and docs paths (health, readiness, metrics, OpenAPI, docs) skip the queue and the deadline: a
probe must answer while the service is saturated.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import metrics
from app.settings import LimitsSettings

# /ui/ pages call the API in process: the inner API call holds the slot, so the page must not hold a second.
UNGATED_PREFIXES = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json", "/static/", "/ui/")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body exceeds the limit of {limit} bytes")


def gated(path: str) -> bool:
    return not path.startswith(UNGATED_PREFIXES)


async def send_error(send: Send, status: int, code: str, message: str, hint: str | None, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": code, "message": message, "hint": hint}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Gate:
    """Counts requests running and waiting; the semaphore is made on first use (inside the loop)."""

    def __init__(self, max_in_flight: int, max_queued: int) -> None:
        self.max_in_flight, self.max_queued = max_in_flight, max_queued
        self.running = 0
        self.waiting = 0
        self._sem: asyncio.Semaphore | None = None

    @property
    def sem(self) -> asyncio.Semaphore:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.max_in_flight)
        return self._sem

    def full(self) -> bool:
        return self.running + self.waiting >= self.max_in_flight + self.max_queued

    def release(self, _: Any = None) -> None:
        self.running -= 1
        self.sem.release()
        metrics.IN_FLIGHT.set(self.running)

    async def drain(self, timeout: float) -> bool:
        """Wait until nothing runs (graceful shutdown); False if work is still running after ``timeout``."""
        end = time.monotonic() + timeout
        while self.running and time.monotonic() < end:
            await asyncio.sleep(0.05)
        return not self.running


class OverloadMiddleware:
    def __init__(self, app: ASGIApp, limits: LimitsSettings, gate: Gate) -> None:
        self.app, self.limits, self.gate = app, limits, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id") or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        send = _with_request_id(send, rid)
        limit = self.limits.max_body_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await send_error(send, 413, "payload_too_large", f"request body is {length} bytes; the limit is {limit}", "send a smaller body")
            return
        receive = _counting(receive, limit)
        if not gated(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        await self._gated(scope, receive, send)

    async def _gated(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate, lim = self.gate, self.limits
        if gate.full():
            metrics.REJECTED.labels("overloaded").inc()
            await send_error(
                send, 503, "overloaded", f"the server is at capacity ({gate.max_in_flight} running, {gate.max_queued} waiting)",
                f"retry after {lim.retry_after_seconds} s", {"retry-after": str(lim.retry_after_seconds)},
            )
            return
        deadline = time.monotonic() + lim.request_timeout_seconds
        gate.waiting += 1
        metrics.QUEUED.set(gate.waiting)
        try:
            await asyncio.wait_for(gate.sem.acquire(), timeout=lim.request_timeout_seconds)
        except TimeoutError:
            await self._timeout(send)
            return
        finally:
            gate.waiting -= 1
            metrics.QUEUED.set(gate.waiting)
        gate.running += 1
        metrics.IN_FLIGHT.set(gate.running)
        state = {"started": False, "abandoned": False}

        async def guarded_send(message: Message) -> None:
            if state["abandoned"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        task.add_done_callback(gate.release)
        task.add_done_callback(_consume)
        done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - time.monotonic()))
        if done or state["started"]:
            await task  # finished, or streaming already: let it finish
            return
        state["abandoned"] = True
        task.cancel()
        await self._timeout(send)

    async def _timeout(self, send: Send) -> None:
        metrics.REJECTED.labels("timeout").inc()
        await send_error(
            send, 504, "timeout", f"no answer within {self.limits.request_timeout_seconds:g} s",
            "retry later; the server is busy or the request is slow",
        )


def _consume(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so an abandoned task's error is not reported as "never retrieved"


def _with_request_id(send: Send, rid: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
        await send(message)

    return wrapped


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped
