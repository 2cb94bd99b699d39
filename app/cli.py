"""`guideground` command line. Every reporting command has --json; errors exit 1 (failure) or 2 (usage)."""

from __future__ import annotations

import json
import logging
import os
import re
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

from app.curation import cli as curation_cli  # noqa: E402  (sub-apps: db, keys, guidelines, releases, feedback, curation)

app.add_typer(curation_cli.db_app, name="db")
app.add_typer(curation_cli.keys_app, name="keys")
app.add_typer(curation_cli.guidelines_app, name="guidelines")
app.add_typer(curation_cli.releases_app, name="releases")
app.add_typer(curation_cli.feedback_app, name="feedback")
app.add_typer(curation_cli.curation_app, name="curation")

err = Console(stderr=True)
out = Console()

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index root (default: settings index.dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError / SettingsError from a bad env var
        raise settings_error(exc) from None


def settings_error(exc: Exception) -> UsageError:
    """One line naming the bad GUIDEGROUND_* variable, what is wrong with it, and a hint."""
    from pydantic import ValidationError

    hint = "fix or unset that variable; `guideground config` (with it unset) lists every setting, its env var and default"
    if isinstance(exc, ValidationError) and exc.errors():
        e = exc.errors()[0]
        var = "GUIDEGROUND_" + "__".join(str(p) for p in e.get("loc", ())).upper()
        value = os.environ.get(var)
        shown = f"={value!r}" if value is not None else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return UsageError(f"invalid setting {var}{shown}: {e.get('msg', 'invalid')}{more}", hint=hint)
    first = (str(exc).strip().splitlines() or ["invalid settings"])[0]
    field = re.search(r'field "([^"]+)"', first)
    if field:  # pydantic-settings: a section variable that is not valid JSON
        return UsageError(f"invalid setting GUIDEGROUND_{field.group(1).upper()}: {first}", hint=hint)
    return UsageError(f"invalid settings: {first}", hint=hint)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _fail(exc: GuidegroundError, as_json: bool = False) -> None:
    if as_json:
        _print_json(exc.to_dict())
    err.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
    if exc.hint:
        err.print(f"[dim]hint: {exc.hint}[/dim]", soft_wrap=True)
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
        data["database"]["url"] = curation_cli.mask_db_url(data["database"]["url"])  # never print the password
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
    engine: Annotated[
        str | None, typer.Option("--engine", help="Per-file stages: 'local' (in process, default) or 'ray' (pip install '.[ray]').")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address for --engine ray (default: start a local Ray).")
    ] = None,
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
            params = s.ingest
            if engine or address:
                params = params.model_copy(update={"engine": engine or ("ray" if address else params.engine),
                                                   "ray_address": address or params.ray_address})
            report = run_ingest(paths, root, params, get_embedder(params.embedding), progress=cb)
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
    workers: Annotated[int, typer.Option(min=1, max=64, help="Uvicorn worker processes (each loads the index and models).")] = 1,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs). A newly published index version is picked up live.

    Workers build the app from the environment (`app.api.app:create_app_from_env`), so --index is
    passed on as GUIDEGROUND_INDEX__DIR. SIGTERM/SIGINT stop accepting connections and let open
    requests finish (limits.shutdown_grace_seconds).
    """
    import uvicorn

    s = _settings()
    if index is not None:
        os.environ["GUIDEGROUND_INDEX__DIR"] = str(index.resolve())
    _install_masking()
    uvicorn.run(
        "app.api.app:create_app_from_env",
        factory=True,
        host=host or s.server.host,
        port=port or s.server.port,
        log_level=s.server.log_level,
        workers=workers,
        timeout_graceful_shutdown=max(1, round(s.limits.shutdown_grace_seconds)),
    )


@app.command()
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
        s = _settings()
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
        if resp.message:
            out.print(resp.message)
        for sent in [] if stream else resp.sentences:  # streamed sentences were printed as they came
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
            report = train_screen(shared_dir or s.data.shared_dir, out_path or s.safety.screen_file, cases_out, seed=seed, progress=cb,
                                  feedback_file=s.curation.feedback_dir / "screen.jsonl")  # confirmed clinician feedback
        if as_json:
            _print_json(report)
        elif not quiet:
            err.print(f"screen written to {out_path or s.safety.screen_file}")
            err.print(json.dumps(report.get("test", report), indent=2, default=str)[:3000])

    _guard(run, as_json)


@app.command()
def calibrate(
    out_path: Annotated[Path | None, typer.Option("--out", help="Calibration file (default: settings abstain.calibration_file).")] = None,
    work_dir: Annotated[Path, typer.Option("--work-dir", help="Where the calibration corpora and indexes are built.")] = Path("var/calibration"),
    guideline_index: Annotated[Path | None, typer.Option("--guideline-index", help="An index of ../shared/data/guidelines (default: built in --work-dir).")] = None,
    clinician: Annotated[Path, typer.Option("--clinician", help="Folder with the clinician dev set's fit.jsonl and test.jsonl.")] = Path("evalsets/clinician"),
    feedback: Annotated[Path | None, typer.Option("--feedback", help="Extra labelled cases from the curation queue (default: curation.feedback_dir/abstain.jsonl when it exists).")] = None,
    docs: Annotated[int, typer.Option("--docs", help="MedQuAD documents kept in the index (0: no MedQuAD).")] = 800,
    heldout: Annotated[int, typer.Option("--heldout", help="MedQuAD documents removed (their questions must be abstained on).")] = 250,
    max_questions: Annotated[int, typer.Option("--max-questions", help="MedQuAD questions used (half answerable).")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Fit the sentence scorer and the abstention gate (clinician fit split + MedQuAD) and store them with their report."""
    from app.calibration.run import calibrate as run_calibration

    def run() -> None:
        s = _settings()
        target = out_path or s.abstain.calibration_file
        with _progress(not quiet and not as_json) as cb:
            fb = feedback or Path(s.curation.feedback_dir) / "abstain.jsonl"
            report = run_calibration(
                s, work_dir, target, guideline_index, clinician, docs, heldout, max_questions, seed, fb, progress=cb
            )
        if as_json:
            _print_json(report)
        elif not quiet:
            err.print(f"calibration written to {target}")
            err.print(f"out of fold (fit): {report['out_of_fold']}  AUROC {report['out_of_fold_auroc']}")
            err.print(f"clinician test split: {report['clinician_test']['rates']}  AUROC {report['clinician_test']['auroc']}")
            err.print(f"MedQuAD held-out: {report['medquad_heldout']['rates']}  AUROC {report['medquad_heldout']['auroc']}")

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
    try:
        app()
    except GuidegroundError as exc:  # raised outside a command's own handling (e.g. settings read first)
        err.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
        if exc.hint:
            err.print(f"[dim]hint: {exc.hint}[/dim]", soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from pydantic import ValidationError
        from pydantic_settings import SettingsError

        # Only the settings tree's own errors are "a bad setting"; any other model's error is a bug to show.
        if not (isinstance(exc, SettingsError) or (isinstance(exc, ValidationError) and exc.title == "Settings")):
            raise
        bad = settings_error(exc)
        err.print(f"[red]error:[/red] {bad.message}", soft_wrap=True, markup=False)
        err.print(f"hint: {bad.hint}", soft_wrap=True, style="dim")
        sys.exit(bad.exit_code)


if __name__ == "__main__":
    main()
