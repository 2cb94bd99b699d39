"""Evaluation runs for the evaluator pages: each sub-folder of the reports dir with an eval.json is one run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.errors import NotFound, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


@dataclass(frozen=True)
class RunEntry:
    name: str
    started_at: str
    n_cases: int | None
    cases_file: str | None
    summary: dict[str, float | None]


def _entry(path: Path) -> RunEntry | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        run = data["run"]
        return RunEntry(
            name=path.parent.name,
            started_at=str(run.get("started_at", "")),
            n_cases=data.get("metrics", {}).get("n_cases"),
            cases_file=run.get("cases_file"),
            summary=data.get("summary") or {},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # an unreadable run is listed nowhere rather than breaking the page


def list_runs(reports_dir: Path) -> list[RunEntry]:
    """Runs newest first (by the start time each report records, then by folder name)."""
    if not reports_dir.is_dir():
        return []
    found = [e for p in reports_dir.glob("*/eval.json") if (e := _entry(p)) is not None]
    return sorted(found, key=lambda e: (e.started_at, e.name), reverse=True)


def run_path(reports_dir: Path, name: str) -> Path:
    """The eval.json of run ``name``; names are folder names, never paths."""
    if not _NAME.match(name):
        raise UsageError(f"not a report name: {name!r}")
    path = reports_dir / name / "eval.json"
    if not path.is_file():
        raise NotFound(f"no evaluation report named {name!r} in {reports_dir}")
    return path


_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def scoped_css(css: str, scope: str = ".eval-report") -> str:
    """The report's own CSS with every selector put under ``scope`` (its body/main rules apply to the scope)."""

    def one(sel: str) -> str:
        sel = sel.strip()
        return scope if sel in ("body", "main") else f"{scope} {sel}"

    return "".join(f"{','.join(one(s) for s in m.group(1).split(','))}{{{m.group(2)}}}" for m in _RULE.finditer(css))


def report_body(path: Path) -> tuple[str, str]:
    """(scoped CSS, inner HTML of <main>) of the report page `guideground eval` draws from this eval.json.

    The HTML is re-drawn from the validated JSON by app.eval.report (values escaped there), so the page shows
    what this version's report shows, charts included, and never serves a stale or edited report.html.
    Drawn once per file version (path, mtime, size)."""
    st = path.stat()
    return _drawn(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _drawn(path: str, mtime_ns: int, size: int) -> tuple[str, str]:
    from app.eval.report import CSS, load_report, render_html

    page = render_html(load_report(Path(path)))
    start, end = page.index("<main>") + len("<main>"), page.rindex("</main>")
    return scoped_css(CSS), page[start:end]
