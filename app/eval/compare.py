"""`guideground eval --compare BASELINE.json CANDIDATE.json`: a delta table and a regression gate.

Every metric has a direction (higher or lower is better). A gated metric *regresses* when the
candidate is worse than the baseline by more than its tolerance (absolute, in the metric's unit);
any regression makes the command exit 1. Metrics missing from either report are shown as n/a and
never fail the gate (a dataset without refuse cases has no refusal rate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from app.errors import UsageError
from app.eval.report import load_report
from app.eval.report_schema import EvalReport

Direction = Literal["higher", "lower"]

DIRECTIONS: dict[str, Direction] = {
    "recall@1": "higher", "recall@3": "higher", "recall@5": "higher", "recall@10": "higher",
    "mrr@10": "higher", "ndcg@10": "higher", "evidence_hit": "higher", "quote_invariant_rate": "higher",
    "citation_recall": "higher", "citation_precision": "higher", "coverage": "higher",
    "selective_accuracy": "higher", "aurc": "lower", "abstain_precision": "higher", "abstain_recall": "higher",
    "refusal_rate": "higher", "false_refusal_rate": "lower", "outcome_accuracy": "higher",
    "latency_total_p50_ms": "lower", "latency_total_p95_ms": "lower", "error_rate": "lower",
}

# Gated by default (absolute tolerances). The quote invariant is an invariant: no tolerance.
DEFAULT_GATES: dict[str, float] = {
    "recall@5": 0.02, "mrr@10": 0.02, "evidence_hit": 0.03, "quote_invariant_rate": 0.0,
    "citation_precision": 0.02, "abstain_precision": 0.03, "abstain_recall": 0.03, "aurc": 0.02,
    "refusal_rate": 0.02, "false_refusal_rate": 0.02,
}

Status = Literal["ok", "regressed", "improved", "n/a", "info"]


@dataclass
class CompareRow:
    metric: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    direction: Direction
    tolerance: float | None  # None: shown, not gated
    status: Status


@dataclass
class Comparison:
    rows: list[CompareRow]
    notes: list[str]

    @property
    def regressions(self) -> list[CompareRow]:
        return [r for r in self.rows if r.status == "regressed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [asdict(r) for r in self.rows],
            "notes": self.notes,
            "regressions": [r.metric for r in self.regressions],
            "exit_code": self.exit_code,
        }


def gates_from_options(metrics: Sequence[str] | None, tolerances: Sequence[float] | None) -> dict[str, float]:
    """``--metric A --tolerance x --metric B``: the chosen metrics replace the defaults, paired by position.

    A chosen metric without a tolerance gets its default one (0 if it has none).
    """
    metrics, tolerances = list(metrics or []), list(tolerances or [])
    if not metrics:
        if tolerances:
            raise UsageError("--tolerance given without --metric", hint="pair them: --metric recall@5 --tolerance 0.02")
        return dict(DEFAULT_GATES)
    if len(tolerances) > len(metrics):
        raise UsageError(f"{len(tolerances)} tolerances for {len(metrics)} metrics", hint="pair each --tolerance with a --metric")
    unknown = [m for m in metrics if m not in DIRECTIONS]
    if unknown:
        raise UsageError(f"unknown metric(s): {', '.join(unknown)}", hint="known: " + ", ".join(DIRECTIONS))
    if any(t < 0 for t in tolerances):
        raise UsageError("tolerances must be ≥ 0")
    return {m: (tolerances[i] if i < len(tolerances) else DEFAULT_GATES.get(m, 0.0)) for i, m in enumerate(metrics)}


def compare_summaries(
    baseline: Mapping[str, float | None], candidate: Mapping[str, float | None], gates: Mapping[str, float]
) -> list[CompareRow]:
    names = [m for m in DIRECTIONS if m in baseline or m in candidate]
    names += sorted((set(baseline) | set(candidate)) - set(names))
    rows = []
    for m in names:
        a, b = baseline.get(m), candidate.get(m)
        direction = DIRECTIONS.get(m, "higher")
        tol = gates.get(m)
        delta = None if a is None or b is None else b - a
        if delta is None:
            status: Status = "n/a"
        else:
            worse = -delta if direction == "higher" else delta  # > 0 means the candidate is worse
            if tol is None:
                status = "info"
            elif worse > tol + 1e-12:
                status = "regressed"
            elif worse < -1e-12:
                status = "improved"
            else:
                status = "ok"
        rows.append(CompareRow(m, a, b, delta, direction, tol, status))
    return rows


def compare_reports(baseline: EvalReport, candidate: EvalReport, gates: Mapping[str, float]) -> Comparison:
    notes = []
    a_ids, b_ids = {c.id for c in baseline.cases}, {c.id for c in candidate.cases}
    if a_ids != b_ids:
        notes.append(
            f"the reports scored different cases ({len(a_ids & b_ids)} shared, {len(a_ids - b_ids)} only in the baseline, "
            f"{len(b_ids - a_ids)} only in the candidate): deltas mix data and system changes"
        )
    if baseline.run.index_version and baseline.run.index_version != candidate.run.index_version:
        notes.append(f"index versions differ: {baseline.run.index_version} → {candidate.run.index_version}")
    a_models, b_models = baseline.run.models or {}, candidate.run.models or {}
    for name in sorted(set(a_models) & set(b_models)):
        if a_models[name] != b_models[name]:
            notes.append(f"{name} versions differ: {a_models[name]} → {b_models[name]}")
    missing = [m for m in gates if baseline.summary.get(m) is None or candidate.summary.get(m) is None]
    if missing:
        notes.append(f"not gated (no value in one of the reports): {', '.join(missing)}")
    return Comparison(compare_summaries(baseline.summary, candidate.summary, gates), notes)


def compare_files(
    baseline: Path, candidate: Path, metrics: Sequence[str] | None = None, tolerances: Sequence[float] | None = None
) -> Comparison:
    gates = gates_from_options(metrics, tolerances)
    return compare_reports(load_report(baseline), load_report(candidate), gates)
