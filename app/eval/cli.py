"""`guideground eval`: run cases (in process or against --url), write JSON + HTML, compare runs, build datasets.

Mounted in app/cli.py with ``app.add_typer(eval_app, name="eval")``. Exit codes: 0 done,
1 some cases errored / a compared metric regressed, 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from app.cli_common import err, fail, out, settings
from app.cli_common import progress as progress_bars
from app.errors import GuidegroundError, UsageError
from app.eval.cases import EvalCase, load_cases
from app.eval.compare import Comparison, compare_files
from app.eval.metrics import compute_metrics
from app.eval.report import build_report, load_report, render_html, report_json, write_report
from app.eval.report_schema import EvalReport
from app.eval.runner import Ask, GetChunk, HttpBackend, Progress, run_cases, select_cases, service_backend

eval_app = typer.Typer(
    help="Evaluate retrieval, citations, abstention, refusals and latency; compare two runs; build datasets.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def evaluate(
    cases: Sequence[EvalCase],
    ask: Ask,
    get_chunk: GetChunk,
    run: dict[str, Any] | None = None,
    top_k: int | None = None,
    progress: Progress | None = None,
    judge: Any = None,
) -> EvalReport:
    """Run ``cases`` through ``ask`` and score them: the whole evaluation, minus the files."""
    t0 = time.perf_counter()
    results = run_cases(cases, ask, get_chunk, top_k=top_k, progress=progress)
    metrics, scores = compute_metrics(results, judge)
    info = dict(run or {}, duration_s=round(time.perf_counter() - t0, 3), top_k=top_k)
    return build_report(results, metrics, scores, info)


def evaluate_service(svc: Any, cases: Sequence[EvalCase], run: dict[str, Any] | None = None, **kw: Any) -> EvalReport:
    """In process, through ``QueryService.answer`` (what the API calls)."""
    ask, get_chunk = service_backend(svc)
    s = svc.settings
    config = {k: json.loads(getattr(s, k).model_dump_json()) for k in ("retrieval", "answer", "abstain", "safety")}
    return evaluate(cases, ask, get_chunk, dict({"mode": "in-process", "config": config, "models": svc.model_versions()}, **(run or {})), **kw)


def _guard(fn: Callable[[], int], as_json: bool) -> None:
    try:
        code = fn()
    except GuidegroundError as exc:
        fail(exc, as_json)
        return
    raise typer.Exit(code)


def _fmt(v: float | None, metric: str = "", sign: str = "") -> str:
    if v is None:
        return "n/a"
    return f"{v:{sign}.1f}" if metric.endswith("_ms") else f"{v:{sign}.4f}"


def print_comparison(cmp: Comparison, console: Console) -> None:
    colours = {"regressed": "red", "improved": "green", "ok": "green", "n/a": "dim", "info": "dim"}
    heads = ["metric", "baseline", "candidate", "delta", "", "tol.", "status"]
    cols = [Column(h, no_wrap=True, justify="right" if h in ("baseline", "candidate", "delta", "tol.") else "left") for h in heads]
    t = Table(*cols, box=box.SIMPLE_HEAD, pad_edge=False, caption="↑ higher is better, ↓ lower is better")
    for r in cmp.rows:
        c = colours[r.status]
        arrow = "↑" if r.direction == "higher" else "↓"
        t.add_row(r.metric, _fmt(r.baseline, r.metric), _fmt(r.candidate, r.metric), _fmt(r.delta, r.metric, "+"), arrow,
                  "—" if r.tolerance is None else f"{r.tolerance:g}", f"[{c}]{r.status}[/{c}]")
    console.print(t)
    for n in cmp.notes:
        console.print(f"[yellow]note:[/yellow] {n}")
    if cmp.regressions:
        console.print(f"[red]regressed:[/red] {', '.join(r.metric for r in cmp.regressions)}")


def _print_summary(rep: EvalReport, paths: tuple[Path, Path]) -> None:
    t = Table("metric", "value", title=f"{rep.metrics.n_cases} cases, {rep.metrics.n_errors} errors")
    for k, v in rep.summary.items():
        t.add_row(k, "n/a" if v is None else (f"{v:.1f}" if k.endswith("_ms") else f"{v:.3f}"))
    err.print(t)
    err.print(f"wrote {paths[0]} and {paths[1]}")


@eval_app.callback()
def eval_main(
    ctx: typer.Context,
    index: Annotated[Path | None, typer.Option("--index", help="Index root (default: settings index.dir).")] = None,
    cases: Annotated[Path | None, typer.Option("--cases", help="Cases, one JSON object per line (docs/eval.md).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Evaluate a running server instead of in process.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder for eval.json and report.html.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Run only N cases (a seeded sample with --seed).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for --limit sampling.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="top_k sent with every question.")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option("--compare", help="Compare BASELINE.json CANDIDATE.json.")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="Metric to gate (repeat; replaces the defaults).")] = None,
    tolerance: Annotated[list[float] | None, typer.Option("--tolerance", help="Tolerance for the --metric in the same position.")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Run the valid cases of a file with malformed lines.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    judge: Annotated[str, typer.Option("--judge", help="Citation judge (never the verifier): llm (an OpenAI-compatible model at --judge-url), llamacpp (a local llama.cpp server with the packaged model, or the GGUF at --judge-model), or none (no citation recall/precision).")] = "none",
    judge_url: Annotated[str | None, typer.Option("--judge-url", help="OpenAI-compatible base URL of the judge model (key: GUIDEGROUND_LLM__API_KEY).")] = None,
    judge_model: Annotated[str, typer.Option("--judge-model", help="Model name sent to the judge server.")] = "",
) -> None:
    """Run every case through the query path and write eval.json + report.html; or --compare two runs."""
    if ctx.invoked_subcommand is not None:
        return
    if compare is not None:
        _guard(lambda: _compare(compare, metric, tolerance, as_json), as_json)
    if cases is None:
        err.print(ctx.get_help())
        fail(UsageError("--cases is required (or --compare A.json B.json)"), as_json)
    assert cases is not None

    def run() -> int:
        all_cases, bad = load_cases(cases, skip_invalid=skip_invalid)
        for e in bad:
            err.print(f"[yellow]skipped[/yellow] {escape(str(cases))}:{escape(str(e))}", soft_wrap=True)
        chosen = select_cases(all_cases, limit, seed)
        info: dict[str, Any] = {"cases_file": str(cases), "n_cases_in_file": len(all_cases), "limit": limit, "seed": seed}
        the_judge = _judge(judge, judge_url, judge_model)
        info["judge"] = getattr(the_judge, "name", "none")
        try:
            rep = _evaluate(chosen, info, the_judge)
        finally:
            if hasattr(the_judge, "close"):
                the_judge.close()
        target = out_dir or Path("var/eval") / f"{cases.stem}-{time.strftime('%Y%m%dT%H%M%S')}"
        paths = write_report(rep, target)
        if as_json:
            sys.stdout.write(json.dumps({"json": str(paths[0]), "html": str(paths[1]), "n_cases": rep.metrics.n_cases,
                                         "n_errors": rep.metrics.n_errors, "summary": rep.summary}, indent=2) + "\n")
        elif not quiet:
            _print_summary(rep, paths)
        return 1 if rep.metrics.n_errors else 0

    def _evaluate(chosen: Any, info: dict[str, Any], the_judge: Any) -> Any:
        with progress_bars(not quiet and not as_json) as cb:
            if url:
                backend = HttpBackend(url)
                try:
                    models = backend.check().get("models")
                    rep = evaluate(chosen, backend.ask, backend.get_chunk, dict(info, mode="http", url=url, models=models), top_k, cb, the_judge)
                finally:
                    backend.close()
            else:
                from app.query.service import QueryService

                s = settings()
                svc = QueryService.from_settings(s, index_dir=index)
                rep = evaluate_service(svc, chosen, dict(info, index=str(index or s.index.dir)), top_k=top_k, progress=cb, judge=the_judge)
        return rep

    _guard(run, as_json)


def _judge(kind: str, url: str | None, model: str) -> Any:
    from app.eval.judges import get_judge

    s = settings()
    key = s.llm.api_key.get_secret_value() if s.llm.api_key is not None else None
    return get_judge(kind, url, model, key, s.llm.timeout_seconds)


def _compare(files: tuple[Path, Path], metric: list[str] | None, tolerance: list[float] | None, as_json: bool) -> int:
    cmp = compare_files(files[0], files[1], metric, tolerance)
    if as_json:
        sys.stdout.write(json.dumps(cmp.to_dict(), indent=2) + "\n")
    else:
        print_comparison(cmp, out)
    return cmp.exit_code


@eval_app.command("build-dataset")
def build_dataset_cmd(
    name: Annotated[str, typer.Argument(help="medquad | medquad-heldout | pubmedqa | msb | guidelines")],
    out_dir: Annotated[Path, typer.Option("--out", help="Writes corpus/, cases.jsonl and index/ here.")],
    docs: Annotated[int | None, typer.Option("--docs", min=1, help="Documents in the corpus (sampled with --seed).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 13,
    heldout: Annotated[int | None, typer.Option("--heldout", min=0, help="medquad-heldout: documents held out (default 200).")] = None,
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Write corpus and cases only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Build an evaluation corpus + cases from the shared data and ingest it into OUT/index."""
    from app.eval.datasets import build_dataset

    def run() -> int:
        s = settings()
        with progress_bars(not quiet and not as_json) as cb:
            res = build_dataset(name, out_dir, s, docs, seed, heldout, progress=cb, ingest=not no_ingest)
        if as_json:
            sys.stdout.write(json.dumps(res, indent=2) + "\n")
        elif not quiet:
            err.print(f"{res['n_cases']} cases in {res['cases']}; corpus {res['corpus']}"
                      + (f"; index {res['index']} ({res.get('n_chunks')} chunks)" if res["index"] else ""))
            if res["index"]:
                err.print(f"run it: guideground eval --index {res['index']} --cases {res['cases']}")
        return 1 if res.get("n_failed") else 0

    _guard(run, as_json)


@eval_app.command("report")
def report_cmd(
    run_json: Annotated[Path, typer.Argument(help="An eval.json written by `guideground eval`.")],
    html_out: Annotated[Path | None, typer.Option("--out", help="HTML path (default: report.html beside the JSON).")] = None,
) -> None:
    """Redraw the HTML report from an eval.json."""

    def run() -> int:
        rep = load_report(run_json)
        target = html_out or run_json.with_name("report.html")
        target.write_text(render_html(rep), encoding="utf-8")
        err.print(f"wrote {target}")
        return 0

    _guard(run, False)


@eval_app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of eval.json."""
    sys.stdout.write(json.dumps(EvalReport.model_json_schema(by_alias=True), indent=2) + "\n")


__all__ = ["eval_app", "evaluate", "evaluate_service", "report_json"]
