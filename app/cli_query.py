"""`guideground serve|ask`: the REST API, or one question answered in process.

Registered on the root app in app/cli.py (``app.command()(cli_query.serve)``).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer

from app.cli_common import IndexOpt, JsonOpt, guard, install_masking, out, settings
from app.errors import UsageError


def serve(
    index: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings server.port).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Uvicorn worker processes (each loads the index and models).")] = 1,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs). A newly published index version is picked up live.

    Workers build the app from the environment (`app.api.app:create_app_from_env`), so --index is
    passed on as GUIDEGROUND_INDEX__DIR. SIGTERM/SIGINT stop accepting connections and let open
    requests finish (limits.shutdown_grace_seconds).
    """
    import uvicorn

    s = settings()
    if index is not None:
        os.environ["GUIDEGROUND_INDEX__DIR"] = str(index.resolve())
    install_masking()
    uvicorn.run(
        "app.api.app:create_app_from_env",
        factory=True,
        host=host or s.server.host,
        port=port or s.server.port,
        log_level=s.server.log_level,
        workers=workers,
        timeout_graceful_shutdown=max(1, round(s.limits.shutdown_grace_seconds)),
    )


def ask(
    question: Annotated[str, typer.Argument(help="A clinical question.")],
    index: IndexOpt = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages to return.")] = None,
    as_json: JsonOpt = False,
    stream: Annotated[bool, typer.Option("--stream", help="Print each sentence as soon as it is verified (with --json: one JSON event per line).")] = False,
) -> None:
    """Answer one question in process (--json prints exactly the API response)."""
    from app.query.schemas import QueryRequest
    from app.query.service import QueryService

    def on_sentence(sent: Any, cited: list[Any]) -> None:  # --stream: as each sentence passes verification
        if as_json:
            event = {"event": "sentence", "text": sent.text, "citations": sent.citations, "cited": [c.model_dump(mode="json") for c in cited]}
            sys.stdout.write(json.dumps(event) + "\n")
            sys.stdout.flush()
        else:
            out.print(f"  {sent.text} " + "".join(f"[{n}]" for n in sent.citations))

    def run() -> None:
        s = settings()
        svc = QueryService.from_settings(s, index_dir=index)
        try:
            req = QueryRequest(question=question, top_k=top_k)
        except Exception as exc:
            raise UsageError(f"invalid question: {exc}") from None
        try:
            resp = svc.answer(req, on_sentence) if stream else svc.answer(req)
        finally:
            svc.close()  # stops a local model server the generator started
        if as_json:
            if stream:
                sys.stdout.write(json.dumps({"event": "final", "response": resp.model_dump(mode="json")}) + "\n")
            else:
                sys.stdout.write(resp.model_dump_json(indent=2) + "\n")
            return
        colour = {"answered": "green", "abstained": "yellow", "refused": "red"}[resp.status]
        out.print(f"[{colour}]{resp.status}[/{colour}]" + (f" ({resp.reason})" if resp.reason else ""))
        if resp.read_as:
            out.print("[yellow]Read " + ", ".join(f"{r.written!r} as {r.read!r}" for r in resp.read_as) + "[/yellow]")
        if resp.message:
            out.print(resp.message)
        for sent in [] if stream else resp.sentences:  # streamed sentences were printed as they came
            out.print(f"  {sent.text} " + "".join(f"[{n}]" for n in sent.citations))
        if resp.closest:
            out.print("Closest statements found (not an answer to the question):")
            for cs in resp.closest:
                out.print(f"  {cs.text} [{cs.citation}]")
        cited_only = [w for w in resp.unmatched_terms if w not in resp.unindexed_terms]
        if resp.unindexed_terms:
            out.print(f"[yellow]No guideline in this index uses: {', '.join(resp.unindexed_terms)}[/yellow]")
        if cited_only:
            out.print(f"[yellow]No cited guideline uses: {', '.join(cited_only)}[/yellow]")
        if resp.unanswered_items:
            out.print(f"[yellow]The answer gives no {' or '.join(resp.unanswered_items)}, which the question asks for[/yellow]")
        for c in resp.citations:
            where = " > ".join(c.section_path[-2:])
            page = f", p. {c.page}" if c.page else ""
            out.print(f"[dim][{c.n}] {c.title[:80]} — {where}{page} ({c.doc_id}, {c.chunk_id} {c.start}:{c.end})[/dim]")
        out.print(f"[dim]index {resp.index_version}; {resp.timings_ms.total:.1f} ms[/dim]")

    guard(run, as_json)
