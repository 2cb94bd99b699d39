"""`guideground ingest|inspect|versions`: build, look into and roll back index versions.

Registered on the root app in app/cli.py (``app.command()(cli_index.ingest)``,
``app.add_typer(cli_index.versions_app, name="versions")``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from app.cli_common import IndexOpt, JsonOpt, err, fail, guard, out, print_json, progress, settings
from app.errors import GuidegroundError

versions_app = typer.Typer(help="List published index versions and roll back.", no_args_is_help=True)


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
    from ingest.parse import NO_SIDECAR
    from ingest.pipeline import run_ingest

    s = settings()
    root = index or s.index.dir
    try:
        with progress(not quiet and not as_json) as cb:
            params = s.ingest
            if engine or address:
                params = params.model_copy(update={"engine": engine or ("ray" if address else params.engine),
                                                   "ray_address": address or params.ray_address})
            report = run_ingest(paths, root, params, get_embedder(params.embedding), progress=cb)
    except GuidegroundError as exc:
        fail(exc, as_json)
        return
    if as_json:
        print_json(report.to_dict())
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
        from ingest.boilerplate import BOILERPLATE_DOCS

        standard = (
            f"{report.n_boilerplate_sentences} sentences that {BOILERPLATE_DOCS}+ guidelines repeat set aside as standard text (never quoted); "
            if report.n_boilerplate_sentences else ""
        )
        err.print(
            f"{summary}; {report.n_chunks} chunks ({report.n_embedded_chunks} embedded, {report.n_reused_chunks} reused); "
            f"{standard}{state} in {root}"
        )
        bare = [w for f in report.files for w in f.warnings if w.startswith(NO_SIDECAR)]
        if bare:
            read = sum("issuer and published from" in w for w in bare)
            err.print(
                f"[yellow]{len(bare)} file(s) without a sidecar row[/yellow]: issuer and date read from the document's labelled "
                f"fields for {read}; for the rest add rows to the folder's manifest.csv (doc_id,file,title,issuer,published,…)"
            )
    else:
        for f in report.failed:
            err.print(f"FAILED {f.path}: {f.reason}")
    raise typer.Exit(report.exit_code)


def inspect(
    index: IndexOpt = None,
    doc: Annotated[str | None, typer.Option("--doc", help="Show the chunks of one document.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Index version (default: the served one).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the guidelines in an index, or how one guideline was cut into chunks."""
    from ingest.store import load_version

    def run() -> None:
        s = settings()
        idx = load_version(index or s.index.dir, version)
        docs = idx.manifest["documents"]
        if doc is None:
            if as_json:
                print_json({"version": idx.version, "n_chunks": len(idx.chunks), "documents": docs})
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
            print_json({"version": idx.version, "document": docs[doc], "chunks": [c.model_dump() for c in chunks]})
            return
        out.print(f"[bold]{docs[doc]['title']}[/bold] — {len(chunks)} chunks")
        for c in chunks:
            flags = f" [red]{','.join(c.flags)}[/red]" if c.flags else ""
            pages = f" p.{','.join(map(str, c.pages))}" if c.pages else ""
            out.print(f"[cyan]{c.chunk_id}[/cyan]{pages} [{c.start}:{c.end}] {' > '.join(c.section_path)}{flags}")
            out.print(f"    {c.text[:160]}{'…' if len(c.text) > 160 else ''}")

    guard(run, as_json)


@versions_app.command("list")
def versions_list(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """List published versions (the served one is marked)."""
    from ingest.store import current_version, list_versions, read_manifest

    s = settings()
    root = index or s.index.dir
    cur = current_version(root)
    rows = []
    for v in list_versions(root):
        m = read_manifest(root / "versions" / v)
        rows.append({"version": v, "current": v == cur, "built_at": m.get("built_at"), "n_chunks": m.get("n_chunks"), "n_documents": len(m.get("documents", {}))})
    if as_json:
        print_json({"index_dir": str(root), "current": cur, "versions": rows})
        return
    if not rows:
        err.print(f"no published versions under {escape(str(root))}", highlight=False, soft_wrap=True)
        err.print(f"[dim]hint: build one with: guideground ingest guidelines/ --index {escape(str(root))}[/dim]", soft_wrap=True)
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
        s = settings()
        root = index or s.index.dir
        before = current_version(root)
        set_current(root, version)
        if as_json:
            print_json({"previous": before, "current": version})
        else:
            err.print(f"now serving {version} (was {before})")

    guard(run, as_json)
