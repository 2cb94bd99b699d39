"""`guideground` command line. Every reporting command has --json; errors exit 1 (failure) or 2 (usage)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.errors import GuidegroundError, UsageError
from app.settings import Settings, get_settings

app = typer.Typer(
    help="guideground: answers clinical questions from clinical practice guidelines, and only from them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
versions_app = typer.Typer(help="List published index versions and roll back.", no_args_is_help=True)
app.add_typer(versions_app, name="versions")


def _mount_eval() -> None:
    from app.eval.cli import eval_app

    app.add_typer(eval_app, name="eval")


_mount_eval()

err = Console(stderr=True)
out = Console()

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index root (default: settings index.dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError from a bad env var
        raise UsageError(f"invalid settings: {exc}", hint="check GUIDEGROUND_* environment variables") from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _fail(exc: GuidegroundError, as_json: bool = False) -> None:
    if as_json:
        _print_json(exc.to_dict())
    err.print(f"[red]error:[/red] {exc.message}")
    if exc.hint:
        err.print(f"[dim]hint: {exc.hint}[/dim]")
    raise typer.Exit(exc.exit_code)


@contextmanager
def _progress(enabled: bool):
    """Yields a callback (stage, done, total) drawing rich progress bars on stderr."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as prog:
        tasks: dict[str, Any] = {}

        def cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=total)
            prog.update(tasks[stage], completed=done, total=total)

        yield cb


def _guard(fn: Callable[[], None], as_json: bool = False) -> None:
    try:
        fn()
    except GuidegroundError as exc:
        _fail(exc, as_json)


@app.command()
def config(as_json: JsonOpt = False) -> None:
    """Print the effective settings (defaults overridden by GUIDEGROUND_* environment variables)."""

    def run() -> None:
        s = _settings()
        data = json.loads(s.model_dump_json())
        if as_json:
            _print_json(data)
            return
        table = Table("setting", "value", "env var")

        def walk(prefix: list[str], d: dict[str, Any]) -> None:
            for k, v in d.items():
                if isinstance(v, dict):
                    walk([*prefix, k], v)
                else:
                    table.add_row(".".join([*prefix, k]), json.dumps(v), "GUIDEGROUND_" + "__".join([*prefix, k]).upper())

        walk([], data)
        out.print(table)

    _guard(run, as_json)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Guideline files or folders (PDF, HTML, DOCX, Markdown, text).")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary (for CI).")] = False,
) -> None:
    """Parse, chunk and embed guidelines into a new index version, then publish it atomically.

    Only new or changed files are re-parsed and re-embedded. Exit codes: 0 all files indexed,
    1 some files failed (the rest is published), 2 usage or configuration error.
    """
    from ingest.embed import get_embedder
    from ingest.pipeline import run_ingest

    s = _settings()
    root = index or s.index.dir
    try:
        with _progress(not quiet and not as_json) as cb:
            report = run_ingest(paths, root, s.ingest, get_embedder(s.ingest.embedding), progress=cb)
    except GuidegroundError as exc:
        _fail(exc, as_json)
        return
    if as_json:
        _print_json(report.to_dict())
    elif not quiet:
        for f in report.files:
            if f.status == "failed":
                hint = f" ({f.hint})" if f.hint else ""
                err.print(f"[red]FAILED[/red] {f.path}: {f.reason}{hint}")
        counts: dict[str, int] = {}
        for f in report.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        state = f"published {report.version}" if report.published else f"unchanged ({report.version or 'nothing published'})"
        err.print(
            f"{summary}; {report.n_chunks} chunks ({report.n_embedded_chunks} embedded, {report.n_reused_chunks} reused); "
            f"{state} in {root}"
        )
    else:
        for f in report.failed:
            err.print(f"FAILED {f.path}: {f.reason}")
    raise typer.Exit(report.exit_code)


@app.command()
def inspect(
    index: IndexOpt = None,
    doc: Annotated[str | None, typer.Option("--doc", help="Show the chunks of one document.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Index version (default: the served one).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the guidelines in an index, or how one guideline was cut into chunks."""
    from ingest.store import load_version

    def run() -> None:
        s = _settings()
        idx = load_version(index or s.index.dir, version)
        docs = idx.manifest["documents"]
        if doc is None:
            if as_json:
                _print_json({"version": idx.version, "n_chunks": len(idx.chunks), "documents": docs})
                return
            t = Table("doc_id", "title", "issuer", "published", "chunks", title=f"{idx.root} @ {idx.version}")
            for d_id, d in sorted(docs.items()):
                t.add_row(d_id, d["title"][:70], d["issuer"][:30], d["published"], str(d["n_chunks"]))
            out.print(t)
            return
        if doc not in docs:
            from app.errors import NotFound

            raise NotFound(f"no document '{doc}' in {idx.version}", hint="run `guideground inspect` to list doc ids")
        chunks = [c for c in idx.chunks if c.doc_id == doc]
        if as_json:
            _print_json({"version": idx.version, "document": docs[doc], "chunks": [c.model_dump() for c in chunks]})
            return
        out.print(f"[bold]{docs[doc]['title']}[/bold] — {len(chunks)} chunks")
        for c in chunks:
            flags = f" [red]{','.join(c.flags)}[/red]" if c.flags else ""
            pages = f" p.{','.join(map(str, c.pages))}" if c.pages else ""
            out.print(f"[cyan]{c.chunk_id}[/cyan]{pages} [{c.start}:{c.end}] {' > '.join(c.section_path)}{flags}")
            out.print(f"    {c.text[:160]}{'…' if len(c.text) > 160 else ''}")

    _guard(run, as_json)


@versions_app.command("list")
def versions_list(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """List published versions (the served one is marked)."""
    from ingest.store import current_version, list_versions, read_manifest

    s = _settings()
    root = index or s.index.dir
    cur = current_version(root)
    rows = []
    for v in list_versions(root):
        m = read_manifest(root / "versions" / v)
        rows.append({"version": v, "current": v == cur, "built_at": m.get("built_at"), "n_chunks": m.get("n_chunks"), "n_documents": len(m.get("documents", {}))})
    if as_json:
        _print_json({"index_dir": str(root), "current": cur, "versions": rows})
        return
    t = Table("", "version", "built_at", "documents", "chunks")
    for r in rows:
        t.add_row("*" if r["current"] else "", str(r["version"]), str(r["built_at"]), str(r["n_documents"]), str(r["n_chunks"]))
    out.print(t)


@versions_app.command("rollback")
def versions_rollback(version: str, index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Serve an earlier version (the running server picks it up without a restart)."""
    from ingest.store import current_version, set_current

    def run() -> None:
        s = _settings()
        root = index or s.index.dir
        before = current_version(root)
        set_current(root, version)
        if as_json:
            _print_json({"previous": before, "current": version})
        else:
            err.print(f"now serving {version} (was {before})")

    _guard(run, as_json)


@app.command()
def serve(
    index: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings server.port).")] = None,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs). A newly published index version is picked up live."""
    import uvicorn

    from app.api.app import create_app

    s = _settings()
    if index is not None:
        s = s.model_copy(update={"index": s.index.model_copy(update={"dir": index})})
    _install_masking()
    uvicorn.run(
        create_app(s),
        host=host or s.server.host,
        port=port or s.server.port,
        log_level=s.server.log_level,
        workers=workers,
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A clinical question.")],
    index: IndexOpt = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages to return.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer one question in process (--json prints exactly the API response)."""
    from app.query.schemas import QueryRequest
    from app.query.service import QueryService

    def run() -> None:
        s = _settings()
        svc = QueryService.from_settings(s, index_dir=index)
        try:
            req = QueryRequest(question=question, top_k=top_k)
        except Exception as exc:
            raise UsageError(f"invalid question: {exc}") from None
        resp = svc.answer(req)
        if as_json:
            sys.stdout.write(resp.model_dump_json(indent=2) + "\n")
            return
        colour = {"answered": "green", "abstained": "yellow", "refused": "red"}[resp.status]
        out.print(f"[{colour}]{resp.status}[/{colour}]" + (f" ({resp.reason})" if resp.reason else ""))
        if resp.message:
            out.print(resp.message)
        for sent in resp.sentences:
            out.print(f"  {sent.text} " + "".join(f"[{n}]" for n in sent.citations))
        for c in resp.citations:
            where = " > ".join(c.section_path[-2:])
            page = f", p. {c.page}" if c.page else ""
            out.print(f"[dim][{c.n}] {c.title[:80]} — {where}{page} ({c.doc_id}, {c.chunk_id} {c.start}:{c.end})[/dim]")
        out.print(f"[dim]index {resp.index_version}; {resp.timings_ms.total:.1f} ms[/dim]")

    _guard(run, as_json)


safety_app = typer.Typer(help="Train and check the harmful-request screen.", no_args_is_help=True)
app.add_typer(safety_app, name="safety")


@safety_app.command("train")
def safety_train(
    out_path: Annotated[Path | None, typer.Option("--out", help="Artefact path (default: settings safety.screen_file).")] = None,
    cases_out: Annotated[Path | None, typer.Option("--cases-out", help="Write the held-out test split as eval cases (JSONL).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for sampling and splits.")] = 13,
    shared_dir: Annotated[Path | None, typer.Option("--shared-dir", help="Shared data (default: settings data.shared_dir).")] = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train the request screen on MedSafetyBench (harmful) vs MedQuAD + benign-sensitive questions."""
    from app.safety.screen import train_screen

    def run() -> None:
        s = _settings()
        with _progress(not quiet and not as_json) as cb:
            report = train_screen(shared_dir or s.data.shared_dir, out_path or s.safety.screen_file, cases_out, seed=seed, progress=cb)
        if as_json:
            _print_json(report)
        elif not quiet:
            err.print(f"screen written to {out_path or s.safety.screen_file}")
            err.print(json.dumps(report.get("test", report), indent=2, default=str)[:3000])

    _guard(run, as_json)


@app.command()
def calibrate(
    out_path: Annotated[Path | None, typer.Option("--out", help="Calibration file (default: settings abstain.calibration_file).")] = None,
    work_dir: Annotated[Path, typer.Option("--work-dir", help="Where the MedQuAD calibration corpus and index are built.")] = Path("var/calibration"),
    docs: Annotated[int, typer.Option("--docs", help="MedQuAD documents kept in the index.")] = 800,
    heldout: Annotated[int, typer.Option("--heldout", help="MedQuAD documents removed (their questions must be abstained on).")] = 250,
    max_questions: Annotated[int, typer.Option("--max-questions")] = 1600,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Fit the abstention model on MedQuAD (gold documents present vs removed) and store it with its report."""
    from app.query.calibrate import calibrate as run_calibration

    def run() -> None:
        s = _settings()
        target = out_path or s.abstain.calibration_file
        with _progress(not quiet and not as_json) as cb:
            report = run_calibration(s, work_dir, target, docs, heldout, max_questions, seed, progress=cb)
        if as_json:
            _print_json(report)
        elif not quiet:
            t = report["test"]
            err.print(
                f"calibration written to {target}: on held-out test questions answered {t['answer_rate_answerable']:.1%} "
                f"of answerable and abstained on {t['abstain_rate_unanswerable']:.1%} of unanswerable (AUROC {t['auroc']})"
            )

    _guard(run, as_json)


def _install_masking() -> None:
    try:
        from app.safety.pii import install_log_masking
    except ImportError:  # pragma: no cover
        return
    install_log_masking()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "unstructured", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _install_masking()
    app()


if __name__ == "__main__":
    main()
