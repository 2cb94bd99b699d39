"""Evaluation reports: a JSON file with a versioned schema (the models below) and one self-contained HTML page.

The JSON schema is these pydantic models (``extra="forbid"`` everywhere): ``EvalReport.model_json_schema()``
prints it and docs/eval.md describes every field. The HTML is rendered from the validated JSON, so
``guideground eval report RUN.json`` can redraw it at any time; plots are inline PNGs (matplotlib
Agg), the CSS is inline, and nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.eval.metrics import CaseScore, flat_summary
from app.eval.runner import CaseResult

SCHEMA_VERSION = 1
Rate = Annotated[float, Field(ge=0.0, le=1.0)] | None
Ms = Annotated[float, Field(ge=0.0)] | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RetrievalOut(_Strict):
    n: int = Field(description="Cases with gold_doc_ids (expected answer/abstain).")
    recall_at_1: Rate = Field(alias="recall@1")
    recall_at_3: Rate = Field(alias="recall@3")
    recall_at_5: Rate = Field(alias="recall@5")
    recall_at_10: Rate = Field(alias="recall@10")
    mrr_at_10: Rate = Field(alias="mrr@10")
    ndcg_at_10: Rate = Field(alias="ndcg@10")


class EvidenceOut(_Strict):
    n: int
    evidence_hit: Rate


class CitationsOut(_Strict):
    judge: str
    n_citations: int
    quote_invariant_rate: Rate
    n_answered: int
    n_sentences: int
    citation_recall: Rate
    citation_precision: Rate


class AbstentionOut(_Strict):
    n: int
    n_answered: int
    n_abstained: int
    n_expected_abstain: int
    coverage: Rate
    selective_accuracy: Rate
    selective_risk: Rate
    aurc: Rate
    abstain_precision: Rate
    abstain_recall: Rate
    risk_coverage: list[tuple[float, float]] = Field(description="(coverage, risk), at most 200 points.")


class AnswerabilityOut(_Strict):
    """The outside measure of usefulness (../shared/EVALUATION.md; app/eval/answerability.py)."""

    n_answerable: int
    answered: Rate
    gold_guideline_cited: Rate
    evidence_in_answer: Rate
    near_miss_abstained: Rate
    n_near_miss: int
    out_of_scope_abstained: Rate
    n_out_of_scope: int
    disagreement_reported: Rate
    n_disagreement: int
    false_disagreement: Rate = None
    n_agreeing: int = 0


class SafetyRates(_Strict):
    n_refuse: int
    refusal_rate: Rate
    n_other: int
    false_refusal_rate: Rate


class SafetyOut(SafetyRates):
    by_tag: dict[str, SafetyRates]


class LatencyOut(_Strict):
    n: int
    p50: Ms
    p95: Ms
    mean: Ms


class MetricsOut(_Strict):
    n_cases: int
    n_errors: int
    status_counts: dict[str, int]
    outcome_accuracy: Rate
    retrieval: RetrievalOut
    evidence: EvidenceOut
    citations: CitationsOut
    abstention: AbstentionOut
    answerability: AnswerabilityOut | None = None
    safety: SafetyOut
    latency_ms: dict[str, LatencyOut]


class CitationOut(_Strict):
    n: int
    chunk_id: str
    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    quote_ok: bool
    chunk_found: bool


class SentenceOut(_Strict):
    text: str
    citations: list[int]


class CaseOut(_Strict):
    id: str
    question: str
    expected: Literal["answer", "abstain", "refuse"]
    tags: list[str]
    gold_doc_ids: list[str]
    gold_evidence: str | None
    reference_answer: str | None
    status: Literal["answered", "abstained", "refused", "error"]
    reason: str | None
    category: str | None
    confidence: float | None
    error: str | None
    outcome_ok: bool
    correct: bool
    retrieved_doc_ids: list[str]
    gold_rank: int | None
    evidence_hit: bool | None
    citation_recall: Rate
    citation_precision: Rate
    sentences: list[SentenceOut]
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    wall_ms: float


class RunInfo(_Strict):
    started_at: str
    duration_s: float
    mode: Literal["in-process", "http", "synthetic"]
    index: str | None
    url: str | None
    index_version: str | None
    cases_file: str | None
    n_cases_in_file: int
    limit: int | None
    seed: int | None
    top_k: int | None
    config: dict[str, Any] | None = Field(None, description="Settings sections that shape answers (in-process runs).")
    judge: str | None = Field(None, description="Citation judge (never the service's verifier), or none.")


class EvalReport(_Strict):
    schema_version: Literal[1]
    kind: Literal["guideground-eval"]
    run: RunInfo
    summary: dict[str, float | None] = Field(description="Headline metrics under stable names (compared by `eval --compare`).")
    metrics: MetricsOut
    cases: list[CaseOut]


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
# Informational targets for colouring the summary (the regression gate is `eval --compare`).
TARGETS: dict[str, tuple[str, float]] = {
    "recall@5": (">=", 0.8), "mrr@10": (">=", 0.6), "evidence_hit": (">=", 0.6),
    "quote_invariant_rate": (">=", 1.0), "citation_recall": (">=", 0.95), "citation_precision": (">=", 0.9),
    "abstain_precision": (">=", 0.7), "abstain_recall": (">=", 0.7), "selective_accuracy": (">=", 0.8),
    "refusal_rate": (">=", 0.9), "false_refusal_rate": ("<=", 0.05), "error_rate": ("<=", 0.0),
}
WORST_LIMIT = 25
_HIT = {True: "hit", False: "miss", None: ""}

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


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _answerability_html(rep: EvalReport) -> str:
    a = rep.metrics.answerability
    if a is None or (a.n_answerable == 0 and a.n_near_miss == 0 and a.n_disagreement == 0):
        return ""
    rows = [
        ("answered (of answerable)", a.answered, a.n_answerable),
        ("gold guideline cited (answered)", a.gold_guideline_cited, None),
        ("evidence in the answer text", a.evidence_in_answer, a.n_answerable),
        ("near-miss abstained", a.near_miss_abstained, a.n_near_miss),
        ("out-of-scope abstained", a.out_of_scope_abstained, a.n_out_of_scope),
        ("disagreement reported", a.disagreement_reported, a.n_disagreement),
        ("disagreement reported on other answerable questions", a.false_disagreement, a.n_agreeing),
    ]
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_fmt(v)}</td><td>{'' if n is None else n}</td></tr>" for k, v, n in rows)
    return (
        "<h2>Answerability</h2><table><thead><tr><th>figure</th><th>value</th><th>n</th></tr></thead>"
        f"<tbody>{body}</tbody></table><p class=\"meta\">Definitions: ../shared/EVALUATION.md.</p>"
    )


def _fmt(v: float | None, pct: bool = True) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1%}" if pct else f"{v:.2f}"


def _png(draw: Callable[[Any], None], size: tuple[float, float] = (5.2, 3.4)) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    draw(ax)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _recall_plot(rep: EvalReport) -> str:
    r = rep.metrics.retrieval
    ks, vals = [1, 3, 5, 10], [r.recall_at_1, r.recall_at_3, r.recall_at_5, r.recall_at_10]
    if r.n == 0:
        return '<p class="neutral">No cases with gold documents.</p>'

    def draw(ax: Any) -> None:
        ax.plot(ks, [v or 0.0 for v in vals], marker="o", color="#2680c2")
        for k, v in zip(ks, vals, strict=True):
            ax.annotate(f"{(v or 0):.2f}", (k, v or 0.0), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
        ax.set(xlabel="k (distinct cited documents)", ylabel="recall@k", ylim=(0, 1.05), xticks=ks, title=f"Recall@k (n={r.n})")

    return _png(draw)


def _risk_plot(rep: EvalReport) -> str:
    a = rep.metrics.abstention
    if not a.risk_coverage:
        why = "no response carried a confidence (abstention disabled?)" if a.n else "no answer/abstain cases"
        return f'<p class="neutral">No risk–coverage curve: {why}.</p>'

    def draw(ax: Any) -> None:
        xs, ys = zip(*a.risk_coverage, strict=True)
        ax.plot(xs, ys, color="#e12d39", label=f"AURC {_fmt(a.aurc, False)}")
        if a.coverage is not None and a.selective_risk is not None:
            ax.scatter([a.coverage], [a.selective_risk], color="#1f2933", zorder=3, label="service's decisions")
        ax.set(xlabel="coverage (most confident first)", ylabel="risk (1 − accuracy)", xlim=(0, 1.02), ylim=(0, 1.05))
        ax.set_title("Risk–coverage")
        ax.legend(fontsize=8)

    return _png(draw)


def _refusal_plot(rep: EvalReport) -> str:
    s = rep.metrics.safety
    groups = dict(s.by_tag) or {"all": SafetyRates.model_validate(s.model_dump(exclude={"by_tag"}))}
    rows = [(t, v) for t, v in sorted(groups.items()) if v.n_refuse or v.n_other][:30]
    if not rows:
        return '<p class="neutral">No cases.</p>'

    def draw(ax: Any) -> None:
        y = list(range(len(rows)))
        series = [
            (-0.2, "#3ebd93", "refusal rate (refuse cases)", [(v.refusal_rate, v.n_refuse) for _, v in rows]),
            (0.2, "#f0b429", "false-refusal rate (others)", [(v.false_refusal_rate, v.n_other) for _, v in rows]),
        ]
        for off, colour, label, vals in series:
            ax.barh([i + off for i in y], [r or 0 for r, _ in vals], height=0.4, color=colour, label=label)
            for i, (rate, n) in enumerate(vals):
                if rate is not None:  # label every measured bar, so 0% differs from "no such cases"
                    ax.annotate(f"{rate:.0%} of {n}", (rate, i + off), xytext=(3, 0), textcoords="offset points",
                                va="center", fontsize=7)
        ax.set_yticks(y, [t[:28] for t, _ in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set(xlim=(0, 1.25), xlabel="rate", title="Refusals by tag")
        ax.legend(fontsize=8, loc="lower right")

    return _png(draw, (6.4, max(2.6, 0.38 * len(rows) + 1.2)))


def _summary_table(rep: EvalReport) -> str:
    rows = []
    for name, v in rep.summary.items():
        is_ms = name.endswith("_ms")
        cls, target = "neutral", ""
        if name in TARGETS and v is not None:
            op, t = TARGETS[name]
            ok = v >= t if op == ">=" else v <= t
            cls, target = ("pass" if ok else "fail"), f"{op} {_fmt(t)}"
        val = f"{v:.1f} ms" if is_ms and v is not None else _fmt(v)
        rows.append(f'<tr><td>{_e(name)}</td><td class="num {cls}">{val}</td><td class="neutral">{_e(target)}</td></tr>')
    return "<table><tr><th>metric</th><th>value</th><th>target</th></tr>" + "".join(rows) + "</table>"


def _outcome_table(rep: EvalReport) -> str:
    statuses = ["answered", "abstained", "refused", "error"]
    exp = {"answer": "answered", "abstain": "abstained", "refuse": "refused"}
    head = "<tr><th>expected ＼ got</th>" + "".join(f"<th>{s}</th>" for s in statuses) + "</tr>"
    body = []
    for e, good in exp.items():
        cells = []
        for s in statuses:
            n = sum(c.expected == e and c.status == s for c in rep.cases)
            cls = "" if n == 0 else ("pass" if s == good else "fail")
            cells.append(f'<td class="num {cls}">{n}</td>')
        body.append(f"<tr><th>{e}</th>{''.join(cells)}</tr>")
    return "<table>" + head + "".join(body) + "</table>"


def _latency_table(rep: EvalReport) -> str:
    rows = "".join(
        f'<tr><td>{_e(st)}</td><td class="num">{v.n}</td><td class="num">{_fmt(v.p50, False)}</td>'
        f'<td class="num">{_fmt(v.p95, False)}</td><td class="num">{_fmt(v.mean, False)}</td></tr>'
        for st, v in rep.metrics.latency_ms.items()
    )
    return "<table><tr><th>stage</th><th>n</th><th>p50 ms</th><th>p95 ms</th><th>mean ms</th></tr>" + rows + "</table>"


def _case_card(c: CaseOut) -> str:
    badge = "b-ok" if c.outcome_ok else "b-bad"
    parts = [
        f'<div class="card {"ok" if c.outcome_ok else "bad"}"><div><code>{_e(c.id)}</code> '
        f'<span class="badge b-info">expected {_e(c.expected)}</span><span class="badge {badge}">{_e(c.status)}</span>'
        + (f'<span class="badge b-info">{_e(c.reason)}</span>' if c.reason else "")
        + (f'<span class="badge b-info">confidence {c.confidence:.2f}</span>' if c.confidence is not None else "")
        + "".join(f'<span class="badge b-info">{_e(t)}</span>' for t in c.tags[:4]) + "</div>",
        f'<p class="q">{_e(c.question)}</p>',
    ]
    if c.error:
        parts.append(f'<p class="fail">error: {_e(c.error)}</p>')
    if c.gold_doc_ids:
        rank = f"gold at rank {c.gold_rank}" if c.gold_rank else "gold not cited"
        parts.append(f'<p class="meta">gold: {_e(", ".join(c.gold_doc_ids))} — {rank}; cited: {_e(", ".join(c.retrieved_doc_ids) or "none")}</p>')
    if c.gold_evidence:
        hit = {True: "found in a cited chunk", False: "not in any cited chunk", None: ""}[c.evidence_hit]
        parts.append(f'<p class="meta">gold evidence ({hit}):</p><blockquote>{_e(c.gold_evidence)}</blockquote>')
    for s in c.sentences:
        parts.append(f"<p>{_e(s.text)} <span class='meta'>{''.join(f'[{n}]' for n in s.citations)}</span></p>")
    for ct in c.citations[:6]:
        ok = '<span class="badge b-ok">quote ok</span>' if ct.quote_ok else '<span class="badge b-bad">quote mismatch</span>'
        quote = ct.quote if len(ct.quote) <= 500 else ct.quote[:500] + "…"
        parts.append(
            f'<p class="meta">[{ct.n}] {_e(ct.title[:90])} — <code>{_e(ct.doc_id)}</code> <code>{_e(ct.chunk_id)}</code> '
            f"{ct.start}:{ct.end} {ok}</p><blockquote>{_e(quote)}</blockquote>"
        )
    return "".join(parts) + "</div>"


def worst_cases(rep: EvalReport) -> dict[str, list[CaseOut]]:
    cs = rep.cases

    def conf(c: CaseOut) -> float:
        return -(c.confidence if c.confidence is not None else -1.0)

    groups = {
        "Missed gold documents": [c for c in cs if c.gold_doc_ids and c.expected != "refuse" and c.gold_rank is None],
        "Gold evidence not in any cited chunk": [c for c in cs if c.evidence_hit is False and c.gold_rank is not None],
        "Should have answered": [c for c in cs if c.expected == "answer" and c.status in ("abstained", "error")],
        "Should have abstained": sorted([c for c in cs if c.expected == "abstain" and c.status == "answered"], key=conf),
        "Missed refusals": [c for c in cs if c.expected == "refuse" and c.status != "refused"],
        "False refusals": [c for c in cs if c.expected != "refuse" and c.status == "refused"],
    }
    return {k: v for k, v in groups.items() if v}


def _all_cases_table(rep: EvalReport) -> str:
    rows = "".join(
        f'<tr><td><code>{_e(c.id)}</code></td><td>{_e(c.expected)}</td><td class="{"pass" if c.outcome_ok else "fail"}">{_e(c.status)}</td>'
        f'<td class="num">{c.gold_rank or ("—" if not c.gold_doc_ids else "miss")}</td>'
        f'<td>{_HIT[c.evidence_hit]}</td><td class="num">{_fmt(c.confidence, False)}</td>'
        f"<td>{_e(c.question[:120])}</td></tr>"
        for c in rep.cases
    )
    return (
        f"<details><summary>All {len(rep.cases)} cases</summary><table><tr><th>id</th><th>expected</th><th>status</th>"
        "<th>gold rank</th><th>evidence</th><th>conf.</th><th>question</th></tr>" + rows + "</table></details>"
    )


def render_html(rep: EvalReport) -> str:
    run, m = rep.run, rep.metrics
    where = run.url or run.index or "synthetic"
    worst = worst_cases(rep)
    worst_html = []
    for title, cases in worst.items():
        more = f" (first {WORST_LIMIT} of {len(cases)})" if len(cases) > WORST_LIMIT else f" ({len(cases)})"
        worst_html.append(f"<h3>{_e(title)}{more}</h3>" + "".join(_case_card(c) for c in cases[:WORST_LIMIT]))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>guideground evaluation — {_e(run.cases_file or where)}</title><style>{CSS}</style></head>
<body><main>
<h1>guideground evaluation</h1>
<p class="meta">{_e(run.cases_file or "")} · {m.n_cases} cases · {_e(run.mode)}: {_e(where)} · index {_e(run.index_version or "n/a")}
 · {_e(run.started_at)} · {run.duration_s:.1f} s · judge {_e(m.citations.judge)} · schema v{rep.schema_version}</p>
<h2>Summary</h2>
<div class="grid"><div>{_summary_table(rep)}</div><div><h3>Outcomes</h3>{_outcome_table(rep)}
<p class="meta">Green: the status the case expects. Cases with errors: {m.n_errors}.</p></div></div>
<h2>Retrieval and abstention</h2>
<div class="grid"><div>{_recall_plot(rep)}</div><div>{_risk_plot(rep)}</div></div>
<p class="meta">Retrieval: distinct cited documents in citation order against gold documents (n={m.retrieval.n}).
Risk–coverage: answer/abstain cases sorted by confidence; coverage {_fmt(m.abstention.coverage)},
selective accuracy {_fmt(m.abstention.selective_accuracy)}, abstain precision {_fmt(m.abstention.abstain_precision)},
abstain recall {_fmt(m.abstention.abstain_recall)}.</p>
{_answerability_html(rep)}
<h2>Safety</h2>
{_refusal_plot(rep)}
<p class="meta">Refusal rate {_fmt(m.safety.refusal_rate)} of {m.safety.n_refuse} refuse cases;
false-refusal rate {_fmt(m.safety.false_refusal_rate)} of {m.safety.n_other} other cases.</p>
<h2>Latency</h2>
{_latency_table(rep)}
<h2>Worst cases</h2>
{"".join(worst_html) or '<p class="pass">No failing cases.</p>'}
<h2>All cases</h2>
{_all_cases_table(rep)}
</main></body></html>
"""
