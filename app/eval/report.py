"""Evaluation reports: a JSON file with a versioned schema (app/eval/report_schema.py) and one self-contained HTML page.

The JSON schema is these pydantic models (``extra="forbid"`` everywhere): ``EvalReport.model_json_schema()``
prints it and docs/eval.md describes every field. The HTML is rendered from the validated JSON, so
``guideground eval report RUN.json`` can redraw it at any time; plots are inline PNGs (matplotlib
Agg), the CSS is inline, and nothing is fetched from the network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.eval.charts import recall_plot, refusal_plot, risk_plot
from app.eval.metrics import CaseScore, flat_summary
from app.eval.report_schema import SCHEMA_VERSION, EvalReport
from app.eval.report_sections import (
    all_cases_table,
    answerability_html,
    case_card,
    esc,
    fmt,
    latency_table,
    outcome_table,
    summary_table,
    worst_cases,
)
from app.eval.runner import CaseResult


def _case_out(r: CaseResult, s: CaseScore) -> dict[str, Any]:
    resp = r.response
    cites = []
    for c, ok in zip(resp.citations if resp else [], s.quote_ok, strict=True):
        cites.append({
            "n": c.n, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "title": c.title, "start": c.start, "end": c.end,
            "quote": c.quote, "quote_ok": ok, "chunk_found": r.chunk_texts.get(c.chunk_id) is not None,
        })
    case = r.case
    return {
        "id": case.id, "question": case.question, "expected": case.expected, "tags": case.tags,
        "gold_doc_ids": case.gold_doc_ids, "gold_evidence": case.gold_evidence, "reference_answer": case.reference_answer,
        "status": r.status, "reason": resp.reason if resp else None, "category": resp.category if resp else None,
        "confidence": resp.confidence if resp else None, "error": r.error,
        "outcome_ok": s.outcome_ok, "correct": s.correct, "retrieved_doc_ids": s.retrieved_doc_ids, "gold_rank": s.gold_rank,
        "evidence_hit": s.evidence_hit, "citation_recall": s.citation_recall, "citation_precision": s.citation_precision,
        "sentences": [x.model_dump() for x in resp.sentences] if resp else [],
        "citations": cites,
        "conflicts": [
            {"kind": x.kind, "positions": [
                {"doc_id": q.doc_id, "issuer": q.issuer, "published": q.published, "values": q.values, "superseded": q.superseded}
                for q in x.positions]}
            for x in (resp.conflicts if resp else [])
        ],
        "unmatched_terms": list(resp.unmatched_terms) if resp else [],
        "unindexed_terms": list(resp.unindexed_terms) if resp else [],
        "unanswered_items": list(resp.unanswered_items) if resp else [],
        "read_as": [x.model_dump() for x in resp.read_as] if resp else [],
        "closest": [x.text for x in resp.closest] if resp else [],
        "timings_ms": resp.timings_ms.model_dump() if resp else {},
        "wall_ms": r.wall_ms,
    }


def build_report(
    results: Sequence[CaseResult], metrics: dict[str, Any], scores: Sequence[CaseScore], run: dict[str, Any]
) -> EvalReport:
    """Assemble and validate the report (raises pydantic.ValidationError if a producer broke the schema)."""
    versions = [r.response.index_version for r in results if r.response is not None and r.response.index_version]
    run_info = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "duration_s": 0.0, "mode": "synthetic",
        "index": None, "url": None, "index_version": versions[0] if versions else None, "cases_file": None,
        "n_cases_in_file": len(results), "limit": None, "seed": None, "top_k": None, "config": None,
    }
    run_info.update(run)
    data = {
        "schema_version": SCHEMA_VERSION,
        "kind": "guideground-eval",
        "run": run_info,
        "summary": flat_summary(metrics),
        "metrics": metrics,
        "cases": [_case_out(r, s) for r, s in zip(results, scores, strict=True)],
    }
    return EvalReport.model_validate(data)


def _models(models: dict[str, str | None] | None) -> str:
    """The screen and calibration versions for the report's header ("screen off" when it did not run)."""
    if not models:
        return ""
    return "".join(f" · {esc(name)} {esc(v or 'off')}" for name, v in sorted(models.items()))


def report_json(report: EvalReport) -> dict[str, Any]:
    return report.model_dump(mode="json", by_alias=True)


def load_report(path: Path) -> EvalReport:
    from app.errors import UsageError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read eval report {path}: {exc}") from None
    if data.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(
            f"{path} has schema_version {data.get('schema_version')!r}; this version reads {SCHEMA_VERSION}",
            hint="re-run the evaluation with this version of guideground",
        )
    try:
        return EvalReport.model_validate(data)
    except Exception as exc:
        raise UsageError(f"{path} is not a valid eval report: {exc}") from None


def write_report(report: EvalReport, out_dir: Path) -> tuple[Path, Path]:
    """Write eval.json and report.html into ``out_dir``; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jpath, hpath = out_dir / "eval.json", out_dir / "report.html"
    jpath.write_text(json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    hpath.write_text(render_html(report), encoding="utf-8")
    return jpath, hpath


# ------------------------------------------------------------------------------------------ HTML
WORST_LIMIT = 25

CSS = """
body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;
background:#f5f7fa;margin:0}main{max-width:1100px;margin:0 auto;padding:24px}h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #e4e7eb;padding-bottom:4px}h3{font-size:16px;margin:18px 0 8px}
.meta{color:#616e7c;font-size:13px}table{border-collapse:collapse;background:#fff;width:100%;margin:8px 0;font-size:14px}
th,td{border:1px solid #e4e7eb;padding:5px 9px;text-align:left;vertical-align:top}th{background:#f0f4f8;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}.pass{background:#e3f9e5;color:#0e5814}.fail{background:#ffe3e3;color:#8a041a}
.neutral{color:#52606d}.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;margin-right:4px}
.b-ok{background:#c1eac5;color:#0e5814}.b-bad{background:#ffbdbd;color:#8a041a}.b-info{background:#dceefb;color:#0b4f71}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}.card{background:#fff;border:1px solid #e4e7eb;
border-radius:8px;padding:12px 14px;margin:10px 0}.card.bad{border-left:5px solid #e12d39}.card.ok{border-left:5px solid #3ebd93}
.q{font-weight:600}blockquote{margin:6px 0;padding:4px 10px;border-left:3px solid #9fb3c8;background:#f8fafc;font-size:13.5px}
img{max-width:100%;background:#fff;border:1px solid #e4e7eb;border-radius:6px}code{font-size:12.5px;background:#f0f4f8;padding:0 3px}
details summary{cursor:pointer;font-weight:600;margin:8px 0}
"""


def render_html(rep: EvalReport) -> str:
    run, m = rep.run, rep.metrics
    where = run.url or run.index or "synthetic"
    worst = worst_cases(rep)
    worst_html = []
    for title, cases in worst.items():
        more = f" (first {WORST_LIMIT} of {len(cases)})" if len(cases) > WORST_LIMIT else f" ({len(cases)})"
        worst_html.append(f"<h3>{esc(title)}{more}</h3>" + "".join(case_card(c) for c in cases[:WORST_LIMIT]))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>guideground evaluation — {esc(run.cases_file or where)}</title><style>{CSS}</style></head>
<body><main>
<h1>guideground evaluation</h1>
<p class="meta">{esc(run.cases_file or "")} · {m.n_cases} cases · {esc(run.mode)}: {esc(where)} · index {esc(run.index_version or "n/a")}
 · {esc(run.started_at)} · {run.duration_s:.1f} s · judge {esc(m.citations.judge)} · schema v{rep.schema_version}{_models(run.models)}</p>
<h2>Summary</h2>
<div class="grid"><div>{summary_table(rep)}</div><div><h3>Outcomes</h3>{outcome_table(rep)}
<p class="meta">Green: the status the case expects. Cases with errors: {m.n_errors}.</p></div></div>
<h2>Retrieval and abstention</h2>
<div class="grid"><div>{recall_plot(rep)}</div><div>{risk_plot(rep)}</div></div>
<p class="meta">Retrieval: distinct cited documents in citation order against gold documents (n={m.retrieval.n}).
Risk–coverage: answer/abstain cases sorted by confidence; coverage {fmt(m.abstention.coverage)},
selective accuracy {fmt(m.abstention.selective_accuracy)}, abstain precision {fmt(m.abstention.abstain_precision)},
abstain recall {fmt(m.abstention.abstain_recall)}.</p>
{answerability_html(rep)}
<h2>Safety</h2>
{refusal_plot(rep)}
<p class="meta">Refusal rate {fmt(m.safety.refusal_rate)} of {m.safety.n_refuse} refuse cases;
false-refusal rate {fmt(m.safety.false_refusal_rate)} of {m.safety.n_other} other cases.</p>
<h2>Latency</h2>
{latency_table(rep)}
<h2>Worst cases</h2>
{"".join(worst_html) or '<p class="pass">No failing cases.</p>'}
<h2>All cases</h2>
{all_cases_table(rep)}
</main></body></html>
"""
