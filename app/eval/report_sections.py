"""HTML tables and sections of the evaluation report page: summary, outcomes, answerability, latency, cases."""

from __future__ import annotations

import html
from typing import Any

from app.eval.answerability import disagreement_between_gold, disagreement_reported
from app.eval.report_schema import CaseOut, EvalReport

# Informational targets for colouring the summary (the regression gate is `eval --compare`).
TARGETS: dict[str, tuple[str, float]] = {
    "recall@5": (">=", 0.8), "mrr@10": (">=", 0.6), "evidence_hit": (">=", 0.6),
    "quote_invariant_rate": (">=", 1.0), "citation_recall": (">=", 0.95), "citation_precision": (">=", 0.9),
    "abstain_precision": (">=", 0.7), "abstain_recall": (">=", 0.7), "selective_accuracy": (">=", 0.8),
    "refusal_rate": (">=", 0.9), "false_refusal_rate": ("<=", 0.05), "error_rate": ("<=", 0.0),
}
_HIT = {True: "hit", False: "miss", None: ""}


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def answerability_html(rep: EvalReport) -> str:
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
        ("… naming both guidelines the question is about", a.disagreement_between_gold, a.n_disagreement),
        ("… quoting the question's evidence as one position", a.disagreement_quotes_evidence, a.n_disagreement),
        ("… quoting both guidelines' evidence, one position each", a.disagreement_quotes_both, a.n_disagreement_both_spans),
        ("disagreement reported on other answerable questions", a.false_disagreement, a.n_agreeing),
        ("abstained answerable: evidence in the closest sentences", a.evidence_in_closest, None),
        ("answered answerable with an unmatched-terms note", a.unmatched_note_answered, None),
        ("answered near misses with an unmatched-terms note", a.unmatched_note_near_miss, a.n_near_miss_answered),
        ("answered answerable with a note that an asked item is not given", a.item_note_answered, None),
        ("answered near misses with a note that an asked item is not given", a.item_note_near_miss, a.n_near_miss_answered),
        ("answered answerable naming a word no guideline here uses", a.unindexed_note_answered, None),
        ("answered near misses naming a word no guideline here uses", a.unindexed_note_near_miss, a.n_near_miss_answered),
        ("answerable abstained for naming what no guideline here mentions", a.absent_name_answerable, a.n_answerable),
        ("near misses abstained for naming what no guideline here mentions", a.absent_name_near_miss, a.n_near_miss),
    ]
    body = "".join(f"<tr><td>{esc(k)}</td><td>{fmt(v)}</td><td>{'' if n is None else n}</td></tr>" for k, v, n in rows)
    return (
        "<h2>Answerability</h2><table><thead><tr><th>figure</th><th>value</th><th>n</th></tr></thead>"
        f"<tbody>{body}</tbody></table><p class=\"meta\">Definitions: ../shared/EVALUATION.md.</p>"
    )


def fmt(v: float | None, pct: bool = True) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1%}" if pct else f"{v:.2f}"


def summary_table(rep: EvalReport) -> str:
    rows = []
    for name, v in rep.summary.items():
        is_ms = name.endswith("_ms")
        cls, target = "neutral", ""
        if name in TARGETS and v is not None:
            op, t = TARGETS[name]
            ok = v >= t if op == ">=" else v <= t
            cls, target = ("pass" if ok else "fail"), f"{op} {fmt(t)}"
        val = f"{v:.1f} ms" if is_ms and v is not None else fmt(v)
        rows.append(f'<tr><td>{esc(name)}</td><td class="num {cls}">{val}</td><td class="neutral">{esc(target)}</td></tr>')
    return "<table><tr><th>metric</th><th>value</th><th>target</th></tr>" + "".join(rows) + "</table>"


def outcome_table(rep: EvalReport) -> str:
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


def latency_table(rep: EvalReport) -> str:
    rows = "".join(
        f'<tr><td>{esc(st)}</td><td class="num">{v.n}</td><td class="num">{fmt(v.p50, False)}</td>'
        f'<td class="num">{fmt(v.p95, False)}</td><td class="num">{fmt(v.mean, False)}</td></tr>'
        for st, v in rep.metrics.latency_ms.items()
    )
    return "<table><tr><th>stage</th><th>n</th><th>p50 ms</th><th>p95 ms</th><th>mean ms</th></tr>" + rows + "</table>"


def case_card(c: CaseOut) -> str:
    badge = "b-ok" if c.outcome_ok else "b-bad"
    parts = [
        f'<div class="card {"ok" if c.outcome_ok else "bad"}"><div><code>{esc(c.id)}</code> '
        f'<span class="badge b-info">expected {esc(c.expected)}</span><span class="badge {badge}">{esc(c.status)}</span>'
        + (f'<span class="badge b-info">{esc(c.reason)}</span>' if c.reason else "")
        + (f'<span class="badge b-info">confidence {c.confidence:.2f}</span>' if c.confidence is not None else "")
        + "".join(f'<span class="badge b-info">{esc(t)}</span>' for t in c.tags[:4]) + "</div>",
        f'<p class="q">{esc(c.question)}</p>',
    ]
    if c.error:
        parts.append(f'<p class="fail">error: {esc(c.error)}</p>')
    if c.gold_doc_ids:
        rank = f"gold at rank {c.gold_rank}" if c.gold_rank else "gold not cited"
        parts.append(f'<p class="meta">gold: {esc(", ".join(c.gold_doc_ids))} — {rank}; cited: {esc(", ".join(c.retrieved_doc_ids) or "none")}</p>')
    if c.gold_evidence:
        hit = {True: "found in a cited chunk", False: "not in any cited chunk", None: ""}[c.evidence_hit]
        parts.append(f'<p class="meta">gold evidence ({hit}):</p><blockquote>{esc(c.gold_evidence)}</blockquote>')
    for s in c.sentences:
        parts.append(f"<p>{esc(s.text)} <span class='meta'>{''.join(f'[{n}]' for n in s.citations)}</span></p>")
    for x in c.conflicts or []:
        sides = "; ".join(f"{esc(q.issuer)} {esc(q.published)}{' (superseded)' if q.superseded else ''}: {esc(', '.join(q.values) or '—')}"
                          for q in x.positions)
        parts.append(f'<p class="meta">disagreement reported ({esc(x.kind)}) — {sides}</p>')
    if c.closest:
        items = "".join(f"<li>{esc(t)}</li>" for t in c.closest)
        parts.append(f'<p class="meta">closest sentences (abstention, not an answer):</p><ol class="meta">{items}</ol>')
    if c.unmatched_terms:
        parts.append(f'<p class="meta">no cited guideline uses: {esc(", ".join(c.unmatched_terms))}</p>')
    if c.unanswered_items:
        parts.append(f'<p class="meta">the answer gives no {esc(" or ".join(c.unanswered_items))}, which the question asks for</p>')
    for ct in c.citations[:6]:
        ok = '<span class="badge b-ok">quote ok</span>' if ct.quote_ok else '<span class="badge b-bad">quote mismatch</span>'
        quote = ct.quote if len(ct.quote) <= 500 else ct.quote[:500] + "…"
        parts.append(
            f'<p class="meta">[{ct.n}] {esc(ct.title[:90])} — <code>{esc(ct.doc_id)}</code> <code>{esc(ct.chunk_id)}</code> '
            f"{ct.start}:{ct.end} {ok}</p><blockquote>{esc(quote)}</blockquote>"
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
        # only cases whose report kept the response's conflicts (None: written before they were)
        "Disagreements not reported": [c for c in cs if "disagreement" in c.tags and c.conflicts is not None and not disagreement_reported(c)],
        "Disagreement reported between other guidelines than the question's": [
            c for c in cs if "disagreement" in c.tags and c.conflicts and not disagreement_between_gold(c.gold_doc_ids, c)
        ],
        "Disagreement reported where none was asked about": [
            c for c in cs if c.expected == "answer" and "disagreement" not in c.tags and disagreement_reported(c)
        ],
    }
    return {k: v for k, v in groups.items() if v}


def all_cases_table(rep: EvalReport) -> str:
    rows = "".join(
        f'<tr><td><code>{esc(c.id)}</code></td><td>{esc(c.expected)}</td><td class="{"pass" if c.outcome_ok else "fail"}">{esc(c.status)}</td>'
        f'<td class="num">{c.gold_rank or ("—" if not c.gold_doc_ids else "miss")}</td>'
        f'<td>{_HIT[c.evidence_hit]}</td><td class="num">{fmt(c.confidence, False)}</td>'
        f"<td>{esc(c.question[:120])}</td></tr>"
        for c in rep.cases
    )
    return (
        f"<details><summary>All {len(rep.cases)} cases</summary><table><tr><th>id</th><th>expected</th><th>status</th>"
        "<th>gold rank</th><th>evidence</th><th>conf.</th><th>question</th></tr>" + rows + "</table></details>"
    )
