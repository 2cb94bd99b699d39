"""POST /v1/query/stream: the same answer as POST /v1/query, as Server-Sent Events.

Events, in order:
  ``sentence``  one answer sentence, sent only after it passed verification: {"text", "citations": [n...],
                "cited": [Citation...]} (citation numbers are the ones the final response uses);
  ``final``     the complete QueryResponse (what POST /v1/query returns; also sent for abstentions and refusals);
  ``error``     {"error", "message", "hint"} instead of ``final`` when the request fails.
Request validation errors are plain 422 JSON responses, before any stream starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.api.deps import ServiceDep
from app.api.metrics import observe
from app.api.routes.answers import RecorderDep
from app.errors import GuidegroundError
from app.query.schemas import AnswerSentence, Citation, QueryRequest

router = APIRouter(tags=["query"])
log = logging.getLogger("guideground.api.stream")


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/v1/query/stream",
    summary="Answer a clinical question, streaming each verified sentence (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "events: sentence*, then final (or error)"}},
)
async def query_stream(req: QueryRequest, request: Request, svc: ServiceDep, recorder: RecorderDep) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()

    def on_sentence(sentence: AnswerSentence, cited: list[Citation]) -> None:  # runs in the worker thread
        item = ("sentence", {"text": sentence.text, "citations": sentence.citations,
                             "cited": [c.model_dump(mode="json") for c in cited]})
        loop.call_soon_threadsafe(queue.put_nowait, item)

    async def run() -> None:
        try:
            resp = await run_in_threadpool(svc.answer, req, on_sentence)
            observe(resp)
            await recorder.record(req.question, resp)
            await queue.put(("final", resp.model_dump(mode="json")))
        except GuidegroundError as exc:
            await queue.put(("error", exc.to_dict()))
        except Exception as exc:  # the stream has started: report in-band, never a torn connection
            log.exception("stream failed")
            await queue.put(("error", {"error": "internal_error", "message": f"{type(exc).__name__}", "hint": None}))
        finally:
            await queue.put(None)

    task = asyncio.create_task(run())

    async def events() -> AsyncIterator[str]:
        while (item := await queue.get()) is not None:
            yield sse(*item)
        await task

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
